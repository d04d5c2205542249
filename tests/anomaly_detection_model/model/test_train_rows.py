"""`train()` takes rows exactly as a warehouse query returns them, as the demo passes them."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from anomaly_detection_model.registry import Registry
from anomaly_detection_model.synthetic import cluster_rows
from anomaly_detection_model.train import train


def _as_stored(row: dict[str, Any]) -> dict[str, Any]:
    """DuckDB's shape: timestamps as datetimes, the two maps as JSON text."""
    stored = dict(row)
    for key in ("window_start", "window_end"):
        stored[key] = datetime.fromisoformat(str(row[key]).replace("Z", "+00:00"))
    for key in ("event_reasons", "log_templates"):
        stored[key] = json.dumps(row.get(key) or {})
    return stored


def test_warehouse_shaped_rows_train_and_register(tmp_path: Path) -> None:
    rows = [_as_stored(r) for r in cluster_rows(3, 60, seed=2)]
    result = train(rows, str(tmp_path))
    assert result.version == Registry(str(tmp_path)).load("latest").version
    assert result.metrics["training_rows"] + result.metrics["holdout_rows"] == len(rows)
