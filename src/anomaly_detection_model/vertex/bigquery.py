"""Feature rows from BigQuery: the cloud form of the training warehouse (`bq://project.dataset`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def read_features(location: str, query: str) -> Iterator[dict[str, Any]]:
    """Run `query` with `location`'s dataset as default (so `features` means its table)."""
    from google.cloud import bigquery

    project, _, dataset = location.removeprefix("bq://").partition(".")
    if not project or not dataset:
        raise ValueError(f"--warehouse: {location!r} is not bq://project.dataset")
    client = bigquery.Client(project=project)
    config = bigquery.QueryJobConfig(default_dataset=f"{project}.{dataset}")
    for row in client.query(query, job_config=config).result():
        yield dict(row.items())
