"""The BigQuery table definitions of the pipeline's outputs, one JSON file per table.

The same files create the BigQuery tables (`telemetry_pipeline.gcp.bigquery`, Terraform) and the
DuckDB warehouse (`local_cloud.warehouse`, which is handed them as data by the composer).
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

TABLE_NAMES = ("raw_metrics", "raw_logs", "features", "anomalies", "dead_letters")


def table_specs() -> list[dict[str, Any]]:
    """Each table's spec: `table`, `description`, `timePartitioning`, `clustering`, `schema`."""
    folder = resources.files(__name__)
    return [
        json.loads(folder.joinpath(f"{name}.json").read_text(encoding="utf-8"))
        for name in TABLE_NAMES
    ]
