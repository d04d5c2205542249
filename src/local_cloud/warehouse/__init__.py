"""Local stand-in for BigQuery: a DuckDB file with the pipeline's BigQuery tables.

Tables are created from BigQuery JSON table specs handed in by the composer (the pipeline owns
them); queries are written in BigQuery SQL and transpiled to DuckDB with sqlglot.
"""

from local_cloud.warehouse.queries import QUERIES, Query, QueryError, load_query, transpile
from local_cloud.warehouse.schema import SchemaError, TableSpec
from local_cloud.warehouse.store import Warehouse

__all__ = [
    "QUERIES",
    "Query",
    "QueryError",
    "SchemaError",
    "TableSpec",
    "Warehouse",
    "load_query",
    "transpile",
]
