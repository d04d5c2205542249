"""Train from the DuckDB warehouse or Parquet, register, load `latest`, score: one round trip."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pytest

from anomaly_detection_model import train
from anomaly_detection_model.features import NUMERIC_FEATURES
from anomaly_detection_model.registry import Registry, RegistryError
from anomaly_detection_model.scoring import Scorer
from anomaly_detection_model.synthetic import Fault, pod_rows


def write_warehouse(path: Path, rows: list[dict[str, Any]]) -> Path:
    """A `features` table with the contract's columns, timestamps as TIMESTAMP, maps as JSON."""
    import pyarrow as pa

    staged = pa.Table.from_pylist(
        [
            {
                **r,
                "event_reasons": json.dumps(r["event_reasons"]),
                "log_templates": json.dumps(r["log_templates"]),
            }
            for r in rows
        ]
    )
    numeric = ", ".join(
        f"CAST({n} AS DOUBLE) AS {n}" for n in (*NUMERIC_FEATURES, "rollout_age_seconds")
    )
    con = duckdb.connect(str(path))
    con.register("staged", staged)
    con.execute(
        "CREATE TABLE features AS SELECT entity_type, entity_id, namespace, pod, "
        "CAST(container AS TEXT) AS container, deployment, node, "
        "CAST(window_start AS TIMESTAMP) AS window_start, CAST(window_end AS TIMESTAMP) AS window_end, "
        f"{numeric}, CAST(event_reasons AS JSON) AS event_reasons, "
        "CAST(log_templates AS JSON) AS log_templates FROM staged"
    )
    con.close()
    return path


def test_warehouse_train_register_load_latest_and_score(
    tmp_path: Path, training_rows: list[dict[str, Any]]
) -> None:
    warehouse = write_warehouse(tmp_path / "local.duckdb", training_rows)
    registry = tmp_path / "models"
    args = ["--source", "warehouse", "--warehouse", str(warehouse), "--out", str(registry)]
    assert train.main(args) == 0
    assert train.main(args) == 0  # a second run registers a second version

    reg = Registry(str(registry))
    assert reg.versions() == ["v0001", "v0002"]
    metadata = reg.metadata("latest")
    assert metadata["version"] == "v0002"
    assert metadata["training_range"]["start"] < metadata["training_range"]["end"]
    assert metadata["holdout_range"]["start"] > metadata["training_range"]["end"]
    assert 0.0 <= metadata["metrics"]["holdout_anomaly_rate"] < 0.05

    scorer = Scorer.load(str(registry), "latest")
    assert scorer.model_version == "v0002"
    verdicts = scorer.score(pod_rows("cart-abc-x1", 80, seed=9, fault=Fault("crash_loop", 60, 80)))
    assert not any(v["critical"] for v in verdicts[:60])
    assert any(v["critical"] and v["issue"] == "crash_loop" for v in verdicts[60:])
    assert Scorer.load(str(registry), "v0001").model_version == "v0001"


def test_parquet_source(tmp_path: Path, training_rows: list[dict[str, Any]]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [
        {**r, "event_reasons": json.dumps(r["event_reasons"]), "log_templates": "{}"}
        for r in training_rows[:800]
    ]
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "f.parquet")
    assert (
        train.main(
            [
                "--source",
                "parquet",
                "--parquet",
                str(tmp_path / "f.parquet"),
                "--out",
                str(tmp_path / "r"),
            ]
        )
        == 0
    )
    assert Registry(str(tmp_path / "r")).resolve() == "v0001"


def test_bad_inputs_give_messages_not_tracebacks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert train.main(["--source", "warehouse", "--out", str(tmp_path)]) == 2
    assert "--warehouse" in capsys.readouterr().err
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    assert (
        train.main(["--source", "warehouse", "--warehouse", str(empty), "--out", str(tmp_path)])
        == 2
    )
    assert "features" in capsys.readouterr().err


def test_registry_versions_and_errors(tmp_path: Path) -> None:
    reg = Registry(str(tmp_path / "r"))
    with pytest.raises(RegistryError, match="no model versions"):
        reg.resolve()
    assert reg.register({"kind": "x"}, {}) == "v0001"
    with pytest.raises(RegistryError, match="version"):
        reg.load("newest")
    with pytest.raises(RegistryError, match="does not exist"):
        reg.load("v0009")
    with pytest.raises(RegistryError, match="scheme"):
        Registry("s3://bucket/models")
