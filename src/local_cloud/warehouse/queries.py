"""The documented warehouse queries: BigQuery SQL files, transpiled to DuckDB with sqlglot.

Each `queries/<name>.sql` starts with `-- name:`, `-- description:` and `-- params:` lines
(`name TYPE` pairs, BigQuery types). The same text runs unchanged on BigQuery with query
parameters; here `@param` becomes DuckDB's `$param`.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from typing import Any

import sqlglot
from sqlglot.errors import ParseError

PARAM_TYPES = frozenset({"TIMESTAMP", "FLOAT64", "INT64", "STRING", "BOOL", "DATE"})


class QueryError(ValueError):
    """A query or one of its parameters is wrong; the message names which."""


@dataclass(frozen=True)
class Query:
    """One documented BigQuery SQL query."""

    name: str
    description: str
    params: dict[str, str]
    sql: str

    def bind(self, values: dict[str, Any]) -> dict[str, Any]:
        """Check and convert parameter values (RFC 3339 text for TIMESTAMP is accepted)."""
        unknown = sorted(set(values) - set(self.params))
        if unknown:
            raise QueryError(f"{self.name}: unknown parameter(s) {unknown}")
        bound: dict[str, Any] = {}
        for name, kind in self.params.items():
            if name not in values:
                raise QueryError(f"{self.name}: parameter {name!r} ({kind}) is required")
            bound[name] = _convert(self.name, name, kind, values[name])
        return bound


def _convert(query: str, name: str, kind: str, value: Any) -> Any:
    try:
        if kind == "TIMESTAMP":
            if isinstance(value, str):
                value = datetime.fromisoformat(value)
            if not isinstance(value, datetime) or value.tzinfo is None:
                raise ValueError("a time-zone-aware timestamp is required")
            return value.astimezone(UTC)
        if kind == "FLOAT64":
            return float(value)
        if kind == "INT64":
            if isinstance(value, bool):
                raise ValueError("an integer is required")
            return int(value)
        if kind == "BOOL":
            if not isinstance(value, bool):
                raise ValueError("true or false is required")
            return value
        return str(value)
    except (TypeError, ValueError) as exc:
        raise QueryError(f"{query}: parameter {name!r} ({kind}): {exc}") from None


def parse_query(text: str, fallback_name: str = "") -> Query:
    """Read the header lines and the SQL of one query file."""
    header: dict[str, str] = {}
    for line in text.splitlines():
        if not line.startswith("--"):
            break
        key, _, value = line[2:].strip().partition(":")
        header[key.strip()] = value.strip()
    params: dict[str, str] = {}
    for pair in filter(None, (p.strip() for p in header.get("params", "").split(","))):
        pname, _, ptype = pair.partition(" ")
        if ptype.strip() not in PARAM_TYPES:
            raise QueryError(f"{fallback_name}: parameter {pname!r} has unknown type {ptype!r}")
        params[pname] = ptype.strip()
    return Query(header.get("name", fallback_name), header.get("description", ""), params, text)


def load_query(name: str) -> Query:
    """A documented query by name (the file `queries/<name>.sql`)."""
    path = resources.files(__package__).joinpath("queries", f"{name}.sql")
    if not path.is_file():
        raise QueryError(f"unknown query {name!r}; known: {sorted(QUERIES)}")
    return parse_query(path.read_text(encoding="utf-8"), name)


def _names() -> tuple[str, ...]:
    folder = resources.files(__package__).joinpath("queries")
    return tuple(sorted(p.name[:-4] for p in folder.iterdir() if p.name.endswith(".sql")))


QUERIES: tuple[str, ...] = _names()


@functools.lru_cache(maxsize=256)
def transpile(sql: str) -> str:
    """BigQuery SQL → DuckDB SQL (one statement)."""
    # sqlglot warns when it drops BigQuery-only clauses with no DuckDB meaning; the results
    # of our documented queries do not depend on them, and the tests check the answers.
    sqlglot_logger = logging.getLogger("sqlglot")
    level = sqlglot_logger.level
    sqlglot_logger.setLevel(logging.ERROR)
    try:
        statements = sqlglot.transpile(sql, read="bigquery", write="duckdb")
    except ParseError as exc:
        raise QueryError(f"not valid BigQuery SQL: {exc}") from None
    finally:
        sqlglot_logger.setLevel(level)
    if len(statements) != 1:
        raise QueryError(f"expected one statement, got {len(statements)}")
    return statements[0]
