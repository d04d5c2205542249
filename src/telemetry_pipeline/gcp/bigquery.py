"""BigQuery: create the pipeline's tables from the shared JSON specs (partitioned, clustered)."""

from __future__ import annotations

from typing import Any

from google.cloud import bigquery

from telemetry_pipeline.schemas import table_specs


def schema_fields(fields: list[dict[str, Any]]) -> list[bigquery.SchemaField]:
    return [
        bigquery.SchemaField(
            f["name"],
            f["type"],
            mode=f.get("mode", "NULLABLE"),
            description=str(f.get("description", "")),
            fields=schema_fields(f.get("fields", [])),
        )
        for f in fields
    ]


def create_tables(project: str, dataset: str, client: Any | None = None) -> list[str]:
    """Create every table that does not exist yet; return the full table ids."""
    client = client or bigquery.Client(project=project)
    created: list[str] = []
    for spec in table_specs():
        table = bigquery.Table(
            f"{project}.{dataset}.{spec['table']}", schema_fields(spec["schema"])
        )
        table.description = spec["description"]
        partitioning = spec["timePartitioning"]
        table.time_partitioning = bigquery.TimePartitioning(
            type_=partitioning["type"], field=partitioning["field"]
        )
        table.clustering_fields = spec["clustering"]
        client.create_table(table, exists_ok=True)
        created.append(table.full_table_id if table.full_table_id else str(table.reference))
    return created
