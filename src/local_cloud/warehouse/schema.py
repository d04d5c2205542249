"""BigQuery table specs (JSON) → DuckDB DDL and the Arrow layout rows are loaded through.

BigQuery types map to DuckDB ones: STRING→VARCHAR, INT64→BIGINT, FLOAT64→DOUBLE, BOOL→BOOLEAN,
TIMESTAMP→TIMESTAMPTZ (kept in UTC), JSON→JSON, RECORD→STRUCT, mode REPEATED→LIST. Partitioning
and clustering have no DuckDB meaning and are only kept as documentation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow as pa

_SCALARS: dict[str, tuple[str, pa.DataType]] = {
    "STRING": ("VARCHAR", pa.string()),
    "INT64": ("BIGINT", pa.int64()),
    "INTEGER": ("BIGINT", pa.int64()),
    "FLOAT64": ("DOUBLE", pa.float64()),
    "FLOAT": ("DOUBLE", pa.float64()),
    "NUMERIC": ("DOUBLE", pa.float64()),
    "BOOL": ("BOOLEAN", pa.bool_()),
    "BOOLEAN": ("BOOLEAN", pa.bool_()),
    # Loaded as text and cast by DuckDB, which reads RFC 3339 with its `Z`.
    "TIMESTAMP": ("TIMESTAMPTZ", pa.string()),
    "DATE": ("DATE", pa.string()),
    "JSON": ("JSON", pa.string()),
}


class SchemaError(ValueError):
    """A table spec is not a BigQuery schema this warehouse understands; names the field."""


@dataclass(frozen=True)
class TableSpec:
    """One BigQuery table: its name, columns and the rest of its spec."""

    name: str
    fields: list[dict[str, Any]]
    description: str = ""

    @classmethod
    def parse(cls, spec: dict[str, Any]) -> TableSpec:
        name = spec.get("table")
        if not isinstance(name, str) or not name.isidentifier():
            raise SchemaError(f"table: {name!r} is not a table name")
        fields = spec.get("schema")
        if not isinstance(fields, list) or not fields:
            raise SchemaError(f"{name}.schema: a non-empty list of fields is required")
        for field in fields:
            _check(field, name)
        return cls(name, fields, str(spec.get("description", "")))

    @property
    def columns(self) -> list[str]:
        return [f["name"] for f in self.fields]

    def ddl(self, dataset: str) -> str:
        columns = ", ".join(f'"{f["name"]}" {_duck_type(f)}' for f in self.fields)
        return f'CREATE TABLE IF NOT EXISTS {dataset}."{self.name}" ({columns})'

    def arrow_schema(self) -> pa.Schema:
        return pa.schema([pa.field(f["name"], _arrow_type(f)) for f in self.fields])

    def select_casting(self, relation: str) -> str:
        """SELECT of the loaded Arrow relation with text cast to TIMESTAMPTZ and JSON."""
        parts = []
        for f in self.fields:
            name = f'"{f["name"]}"'
            if f.get("type") in ("TIMESTAMP", "JSON", "DATE") and f.get("mode") != "REPEATED":
                parts.append(f"CAST({name} AS {_duck_type(f)}) AS {name}")
            else:
                parts.append(name)
        return f"SELECT {', '.join(parts)} FROM {relation}"


def _check(field: Any, table: str) -> None:
    if not isinstance(field, dict) or not isinstance(field.get("name"), str):
        raise SchemaError(f"{table}.schema: every field needs a name")
    kind = field.get("type")
    path = f"{table}.{field['name']}"
    if kind in ("RECORD", "STRUCT"):
        subfields = field.get("fields")
        if not isinstance(subfields, list) or not subfields:
            raise SchemaError(f"{path}: a RECORD needs fields")
        for sub in subfields:
            _check(sub, path)
    elif kind not in _SCALARS:
        raise SchemaError(f"{path}: type {kind!r} is not supported")


def _duck_type(field: dict[str, Any]) -> str:
    kind = field["type"]
    if kind in ("RECORD", "STRUCT"):
        inner = ", ".join(f'"{f["name"]}" {_duck_type(f)}' for f in field["fields"])
        text = f"STRUCT({inner})"
    else:
        text = _SCALARS[kind][0]
    return f"{text}[]" if field.get("mode") == "REPEATED" else text


def _arrow_type(field: dict[str, Any]) -> pa.DataType:
    kind = field["type"]
    if kind in ("RECORD", "STRUCT"):
        arrow: pa.DataType = pa.struct(
            [pa.field(f["name"], _arrow_type(f)) for f in field["fields"]]
        )
    else:
        arrow = _SCALARS[kind][1]
    return pa.list_(arrow) if field.get("mode") == "REPEATED" else arrow
