"""Fixtures for the warehouse tests. Fakes nothing: a real DuckDB file in a temporary folder,
created from the pipeline's real BigQuery table specs (the composer's job, done here by hand)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local_cloud.warehouse import Warehouse
from telemetry_pipeline.schemas import table_specs


@pytest.fixture
def specs() -> list[dict[str, Any]]:
    return table_specs()


@pytest.fixture
def warehouse(tmp_path: Path, specs: list[dict[str, Any]]) -> Iterator[Warehouse]:
    with Warehouse(tmp_path / "warehouse.duckdb", specs) as store:
        yield store
