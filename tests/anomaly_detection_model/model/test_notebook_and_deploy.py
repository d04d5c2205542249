"""The exploration notebook executes; the training image and BigQuery ML SQL are well-formed."""

from __future__ import annotations

import os
import re
from pathlib import Path

import nbformat
import pytest
import sqlglot
from nbclient import NotebookClient

from anomaly_detection_model.bqml import create_model_sql, detect_anomalies_sql

REPO = Path(__file__).resolve().parents[3]
NOTEBOOK = REPO / "src" / "anomaly_detection_model" / "notebooks" / "exploring_data.ipynb"


def test_notebook_executes(shared_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GKE_HEAL_SHARED", str(shared_dir))
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(
        notebook,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    ).execute(env=dict(os.environ))
    outputs = [
        o for cell in notebook.cells if cell.cell_type == "code" for o in cell.get("outputs", [])
    ]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    text = "".join(o.get("text", "") for o in outputs)
    assert "labelled windows" in text and "first critical window" in text


def test_training_image_is_non_root_pinned_and_runs_train() -> None:
    dockerfile = (REPO / "deploy" / "training" / "Dockerfile").read_text()
    bases = re.findall(r"^FROM (\S+)", dockerfile, flags=re.M)
    assert bases and all(re.match(r"python:3\.11\.\d+-slim-\w+$", b) for b in bases)
    assert re.search(r"^USER 10001", dockerfile, flags=re.M)
    assert 'ENTRYPOINT ["python", "-m", "anomaly_detection_model.train"]' in dockerfile


def test_bqml_sql_renders_and_parses() -> None:
    create = create_model_sql("my-project", "telemetry", "memory_limit_utilization")
    assert "model_type = 'ARIMA_PLUS'" in create and "{" not in create
    assert sqlglot.parse_one(create, read="bigquery") is not None
    detect = detect_anomalies_sql("my-project", "telemetry", "latency_p95_ms", threshold=0.95)
    assert "ML.DETECT_ANOMALIES" in detect and "0.95 AS anomaly_prob_threshold" in detect
    inner = detect[detect.index("SELECT entity_id, window_end") : detect.rindex(")\n)")]
    assert sqlglot.parse_one(inner, read="bigquery") is not None
    with pytest.raises(ValueError, match="metric"):
        create_model_sql("p", "d", "bytes; DROP TABLE x")
    with pytest.raises(ValueError, match="project"):
        detect_anomalies_sql("p`; --", "d", "latency_p95_ms")
