"""The KFP pipeline compiles offline; the gke-heal commands of the model run end to end."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from typer.testing import CliRunner

from anomaly_detection_model.vertex.pipeline import compile_pipeline
from anomaly_detection_model.vertex.steps import candidate_is_better
from gke_heal.cli import app

runner = CliRunner()


def test_pipeline_compiles_to_kfp_yaml(tmp_path: Path) -> None:
    spec = yaml.safe_load(compile_pipeline(tmp_path / "p.yaml").read_text())
    assert spec["pipelineInfo"]["name"] == "gke-heal-train"
    tasks = spec["root"]["dag"]["tasks"]
    assert {"extract-features", "train-candidate", "compare-with-current", "condition-1"} <= set(
        tasks
    )
    images = {e["container"]["image"] for e in spec["deploymentSpec"]["executors"].values()}
    assert len(images) == 1  # every step runs in the one training container


def test_promotion_rule() -> None:
    old = {"metrics": {"holdout_critical_rate": 0.01, "holdout_anomaly_rate": 0.02}}
    assert candidate_is_better({"metrics": {"holdout_critical_rate": 0.0}}, old)
    assert not candidate_is_better({"metrics": {"holdout_critical_rate": 0.05}}, old)
    assert not candidate_is_better(old, old)
    assert candidate_is_better(old, None)


def test_evaluate_multivariate_command(npz_folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "mv.json"
    result = runner.invoke(
        app, ["evaluate", "multivariate", "--data", str(npz_folder), "--json", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "macro" in result.output
    report = json.loads(out.read_text())
    assert set(report["entities"]) == {"host-1", "host-2"}
    assert 0 <= report["macro"]["point_f1"] <= 1


def test_evaluate_multivariate_bad_folder(tmp_path: Path) -> None:
    result = runner.invoke(app, ["evaluate", "multivariate", "--data", str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert "--data" in result.output


def test_evaluate_logs_command(log_sample: Path, tmp_path: Path) -> None:
    out = tmp_path / "logs.json"
    result = runner.invoke(app, ["evaluate", "logs", "--data", str(log_sample), "--json", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())["detectors"]
    assert set(report) == {"template_anomaly", "new_template"}
    assert report["template_anomaly"]["event_f1"] > report["new_template"]["event_f1"]


def test_train_command_and_versions(tmp_path: Path, training_rows: list[dict[str, object]]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [
        {**r, "event_reasons": json.dumps(r["event_reasons"]), "log_templates": "{}"}
        for r in training_rows[:400]
    ]
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "f.parquet")
    registry = tmp_path / "models"
    result = runner.invoke(
        app,
        [
            "train",
            "run",
            "--source",
            "parquet",
            "--parquet",
            str(tmp_path / "f.parquet"),
            "--out",
            str(registry),
        ],
    )
    assert result.exit_code == 0, result.output
    listed = runner.invoke(app, ["train", "versions", "--registry", str(registry)])
    assert "v0001  (latest)" in listed.output
