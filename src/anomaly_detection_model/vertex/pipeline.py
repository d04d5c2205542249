"""The Vertex AI training pipeline (KFP v2): extract → train → evaluate → register if better.

Every step runs in the project's training container (`deploy/training/Dockerfile`), so the
pipeline runs the same code as `python -m anomaly_detection_model.train` locally. Compiles
offline to YAML: `python -m anomaly_detection_model.vertex.pipeline --out pipeline.yaml`.
"""

# mypy: disable-error-code="untyped-decorator"
# KFP reads the annotations at decoration time, so they must stay real objects (no
# `from __future__ import annotations` here).

import argparse
from collections.abc import Sequence
from pathlib import Path

from kfp import compiler, dsl

TRAINING_IMAGE = "europe-docker.pkg.dev/gke-heal/images/training:latest"
PIPELINE_NAME = "gke-heal-train"


@dsl.container_component
def extract_features(
    warehouse: str, query: str, features: dsl.Output[dsl.Dataset]
) -> dsl.ContainerSpec:
    """BigQuery feature rows → one Parquet file."""
    return dsl.ContainerSpec(
        image=TRAINING_IMAGE,
        command=["python", "-m", "anomaly_detection_model.vertex.steps", "extract"],
        args=["--warehouse", warehouse, "--query", query, "--out", features.path],
    )


@dsl.container_component
def train_candidate(
    features: dsl.Input[dsl.Dataset], candidate_registry: str, holdout: float
) -> dsl.ContainerSpec:
    """Fit and evaluate on the held-back range; register into the candidate registry."""
    return dsl.ContainerSpec(
        image=TRAINING_IMAGE,
        command=["python", "-m", "anomaly_detection_model.train"],
        args=[
            "--source",
            "parquet",
            "--parquet",
            features.path,
            "--out",
            candidate_registry,
            "--holdout",
            holdout,
        ],
    )


@dsl.container_component
def compare_with_current(
    candidate_registry: str,
    registry: str,
    decision: dsl.OutputPath(str),  # type: ignore[valid-type]
) -> dsl.ContainerSpec:
    """Write `promote` when the candidate beats the current model (or there is none)."""
    return dsl.ContainerSpec(
        image=TRAINING_IMAGE,
        command=["python", "-m", "anomaly_detection_model.vertex.steps", "compare"],
        args=["--candidate", candidate_registry, "--current", registry, "--decision", decision],
    )


@dsl.container_component
def register_model(
    candidate_registry: str, registry: str, project: str, region: str
) -> dsl.ContainerSpec:
    """Copy the candidate into the serving registry and upload it to Vertex AI."""
    return dsl.ContainerSpec(
        image=TRAINING_IMAGE,
        command=["python", "-m", "anomaly_detection_model.vertex.steps", "promote"],
        args=[
            "--candidate",
            candidate_registry,
            "--registry",
            registry,
            "--vertex-project",
            project,
            "--vertex-region",
            region,
        ],
    )


@dsl.pipeline(name=PIPELINE_NAME, description="Train the gke-heal entity model on Vertex AI")
def training_pipeline(
    project: str,
    region: str = "europe-west1",
    warehouse: str = "bq://gke-heal/telemetry",
    query: str = "SELECT * FROM features WHERE window_end >= TIMESTAMP_SUB(CURRENT_TIMESTAMP(), INTERVAL 14 DAY)",
    candidate_registry: str = "gs://gke-heal-models/candidates",
    registry: str = "gs://gke-heal-models/serving",
    holdout: float = 0.2,
) -> None:
    extracted = extract_features(warehouse=warehouse, query=query)
    trained = train_candidate(
        features=extracted.outputs["features"],
        candidate_registry=candidate_registry,
        holdout=holdout,
    )
    compared = compare_with_current(candidate_registry=candidate_registry, registry=registry)
    compared.after(trained)
    with dsl.If(compared.outputs["decision"] == "promote", name="candidate-is-better"):
        register_model(
            candidate_registry=candidate_registry, registry=registry, project=project, region=region
        )


def compile_pipeline(out: Path) -> Path:
    """Compile the pipeline to a KFP v2 YAML file (offline)."""
    compiler.Compiler().compile(pipeline_func=training_pipeline, package_path=str(out))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Compile the Vertex AI training pipeline")
    parser.add_argument("--out", type=Path, default=Path("training_pipeline.yaml"))
    args = parser.parse_args(argv)
    print(compile_pipeline(args.out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
