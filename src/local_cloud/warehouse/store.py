"""The warehouse file: DuckDB tables made from BigQuery specs, row inserts, BigQuery SQL queries.

One connection per `Warehouse`, guarded by a lock: the pipeline's writer thread and a reader
can share it. Rows are loaded through Arrow in one statement per batch (timestamps arrive as
RFC 3339 text and JSON columns as text, cast by DuckDB).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from local_cloud.warehouse.queries import Query, QueryError, load_query, transpile
from local_cloud.warehouse.schema import SchemaError, TableSpec

DEFAULT_DATASET = "telemetry"


class Warehouse:
    """A DuckDB file (or `:memory:`) holding the BigQuery tables named by `tables`."""

    def __init__(
        self,
        path: str | Path,
        tables: Iterable[dict[str, Any]],
        *,
        dataset: str = DEFAULT_DATASET,
    ) -> None:
        if not dataset.isidentifier():
            raise SchemaError(f"dataset: {dataset!r} is not an identifier")
        self.path = str(path)
        self.dataset = dataset
        self.specs = {spec.name: spec for spec in map(TableSpec.parse, tables)}
        self._lock = threading.Lock()
        self._db = duckdb.connect(self.path)
        self._db.execute("SET TimeZone = 'UTC'")
        self._db.execute(f"CREATE SCHEMA IF NOT EXISTS {dataset}")
        for spec in self.specs.values():
            self._db.execute(spec.ddl(dataset))

    def insert_rows(self, table: str, rows: list[dict[str, Any]]) -> None:
        """Append rows (dicts keyed by column; missing columns are NULL, extra ones ignored)."""
        spec = self.specs.get(table)
        if spec is None:
            raise SchemaError(f"table: {table!r} is not one of {sorted(self.specs)}")
        if not rows:
            return
        try:
            batch = pa.Table.from_pylist(rows, schema=spec.arrow_schema())
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise SchemaError(f"{table}: rows do not fit the schema: {exc}") from None
        with self._lock:
            self._db.register("incoming_rows", batch)
            try:
                self._db.execute(
                    f'INSERT INTO {self.dataset}."{table}" ' + spec.select_casting("incoming_rows")
                )
            finally:
                self._db.unregister("incoming_rows")

    def sql(self, bigquery_sql: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Run one BigQuery SQL statement (transpiled) and return the rows as dicts."""
        duck = transpile(bigquery_sql)
        with self._lock:
            try:
                cursor = self._db.execute(duck, params or {})
            except duckdb.Error as exc:
                raise QueryError(f"query failed: {exc}") from None
            names = [d[0] for d in cursor.description or []]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def run(self, query: str | Query, **params: Any) -> list[dict[str, Any]]:
        """Run a documented query by name (see `QUERIES`) with its parameters."""
        chosen = load_query(query) if isinstance(query, str) else query
        return self.sql(chosen.sql, chosen.bind(params))

    def columns(self, table: str) -> list[tuple[str, str]]:
        """(name, DuckDB type) of a table's columns, in order."""
        if table not in self.specs:
            raise SchemaError(f"table: {table!r} is not one of {sorted(self.specs)}")
        with self._lock:
            found = self._db.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
                [self.dataset, table],
            ).fetchall()
        return [(str(name), str(kind)) for name, kind in found]

    def count(self, table: str) -> int:
        if table not in self.specs:
            raise SchemaError(f"table: {table!r} is not one of {sorted(self.specs)}")
        with self._lock:
            found = self._db.execute(f'SELECT COUNT(*) FROM {self.dataset}."{table}"').fetchone()
        return int(found[0]) if found else 0

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
