"""Training entry point: read feature rows, fit the entity model, evaluate, register a version.

    python -m anomaly_detection_model.train --source warehouse --warehouse local.duckdb --out ./models
    python -m anomaly_detection_model.train --source parquet --parquet 'features/*.parquet' --out gs://b/models
    python -m anomaly_detection_model.train --source warehouse --warehouse bq://project.dataset --out ...

The newest `--holdout` fraction of the time range is held back: the model is fitted on the
rest, then the held-back rows are streamed through a scorer that has seen the training rows,
and the alert rate there is recorded with the version (the feature rows carry no labels,
so the held-back check is how often a model would cry wolf on recent, mostly normal data).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from anomaly_detection_model.features import (
    MAP_FEATURES,
    NUMERIC_FEATURES,
    OPTIONAL_FEATURES,
    SCHEMA_VERSION,
    FeatureRow,
    FeatureRowError,
)
from anomaly_detection_model.model import EntityModel
from anomaly_detection_model.registry import Registry
from anomaly_detection_model.scoring import Scorer

FEATURES_QUERY = "SELECT * FROM features ORDER BY window_end, entity_id"


class TrainingError(ValueError):
    """Training cannot go on; the message names the input at fault."""


@dataclass(frozen=True)
class TrainingResult:
    version: str
    registry: str
    metrics: dict[str, Any]


def read_warehouse(location: str, query: str = FEATURES_QUERY) -> list[dict[str, Any]]:
    """Feature rows from the warehouse: a DuckDB file locally, `bq://project.dataset` in GCP."""
    if location.startswith("bq://"):
        from anomaly_detection_model.vertex.bigquery import read_features

        return [normalise(r) for r in read_features(location, query)]
    import duckdb

    try:
        connection = duckdb.connect(location, read_only=True)
    except duckdb.Error as exc:
        raise TrainingError(f"--warehouse: cannot open {location!r} ({exc})") from exc
    try:
        cursor = connection.execute(query)
        names = [d[0] for d in cursor.description]
        return [normalise(dict(zip(names, values, strict=True))) for values in cursor.fetchall()]
    except duckdb.Error as exc:
        raise TrainingError(f"--warehouse: query over table 'features' failed ({exc})") from exc
    finally:
        connection.close()


def read_parquet(pattern: str) -> list[dict[str, Any]]:
    """Feature rows from Parquet files (a path or a glob)."""
    import duckdb

    try:
        relation = duckdb.sql(f"SELECT * FROM read_parquet({pattern!r}) ORDER BY window_end")
        assert relation is not None
        names = relation.columns
        return [normalise(dict(zip(names, v, strict=True))) for v in relation.fetchall()]
    except duckdb.Error as exc:
        raise TrainingError(f"--parquet: cannot read {pattern!r} ({exc})") from exc


def normalise(row: Mapping[str, Any]) -> dict[str, Any]:
    """Warehouse types to contract types: timestamps to RFC3339, JSON text to maps, NaN to null."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, datetime):
            aware = value if value.tzinfo else value.replace(tzinfo=UTC)
            value = aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        elif key in MAP_FEATURES and isinstance(value, str):
            value = json.loads(value) if value else {}
        elif key in MAP_FEATURES and isinstance(value, list):
            value = {str(k): v for k, v in value}  # BigQuery REPEATED key/value pairs
        elif key in (*NUMERIC_FEATURES, *OPTIONAL_FEATURES) and value is not None:
            value = float(value)
            value = value if math.isfinite(value) else None
        out[key] = value
    return out


def parse_rows(rows: Sequence[Mapping[str, Any]]) -> list[FeatureRow]:
    parsed = []
    for index, row in enumerate(rows):
        try:
            parsed.append(FeatureRow.parse(row))
        except FeatureRowError as exc:
            raise TrainingError(f"row {index}: {exc}") from None
    return parsed


def split_by_time(
    rows: list[FeatureRow], holdout: float
) -> tuple[list[FeatureRow], list[FeatureRow]]:
    """Train on the older part of the time range, hold back the newest `holdout` fraction."""
    ends = sorted({r.window_end for r in rows})
    if len(ends) < 2 or holdout <= 0:
        return rows, []
    cut = ends[min(max(int(len(ends) * (1 - holdout)), 1), len(ends) - 1)]
    return [r for r in rows if r.window_end < cut], [r for r in rows if r.window_end >= cut]


def train(
    rows: Sequence[Mapping[str, Any]], out: str, *, holdout: float = 0.2, source: str = ""
) -> TrainingResult:
    """Fit, evaluate on the held-back range, and register a new version in `out`.

    Rows may come straight from a warehouse query (timestamps, maps as JSON text): they are
    normalised to contract types first.
    """
    parsed = parse_rows([normalise(row) for row in rows])
    if len(parsed) < 10:
        raise TrainingError(f"training needs at least 10 feature rows, got {len(parsed)}")
    fit_rows, held = split_by_time(parsed, holdout)
    model = EntityModel.fit(fit_rows)
    scorer = Scorer(model, "candidate")
    ordered = sorted(fit_rows, key=lambda r: r.window_end)
    scorer.score([_as_dict(r) for r in ordered])  # warm per-entity state, as in production
    verdicts = scorer.score([_as_dict(r) for r in sorted(held, key=lambda r: r.window_end)])
    scores = np.array([v["score"] for v in verdicts], dtype=np.float64)
    metrics: dict[str, Any] = {
        "training_rows": len(fit_rows),
        "holdout_rows": len(held),
        "entities": len({r.entity_id for r in parsed}),
        "z_threshold": model.z_threshold,
        "holdout_anomaly_rate": float((scores >= 0.5).mean()) if scores.size else None,
        "holdout_critical_rate": (
            sum(v["critical"] for v in verdicts) / len(verdicts) if verdicts else None
        ),
        "holdout_issues": dict(Counter(v["issue"] for v in verdicts if v["issue"] != "none")),
    }
    metadata = {
        "model_kind": "entity-model",
        "threshold": {"score": 0.5, "z": model.z_threshold},
        "feature_schema": SCHEMA_VERSION,
        "features": list(NUMERIC_FEATURES),
        "training_range": {
            "start": min(r.window_end for r in fit_rows),
            "end": max(r.window_end for r in fit_rows),
        },
        "holdout_range": (
            {"start": min(r.window_end for r in held), "end": max(r.window_end for r in held)}
            if held
            else None
        ),
        "metrics": metrics,
        "source": source,
        "created_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    registry = Registry(out)
    version = registry.register(model.to_dict(), metadata)
    return TrainingResult(version, out, metrics)


def _as_dict(row: FeatureRow) -> dict[str, Any]:
    return {
        "entity_type": row.entity_type,
        "entity_id": row.entity_id,
        "namespace": row.namespace,
        "pod": row.pod,
        "container": row.container,
        "deployment": row.deployment,
        "node": row.node,
        "window_start": row.window_start,
        "window_end": row.window_end,
        **row.values,
        "event_reasons": row.event_reasons,
        "log_templates": row.log_templates,
    }


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m anomaly_detection_model.train", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--source", choices=["warehouse", "parquet"], required=True)
    parser.add_argument("--warehouse", help="DuckDB file, or bq://project.dataset")
    parser.add_argument("--query", default=FEATURES_QUERY, help="SQL over the features table")
    parser.add_argument("--parquet", help="Parquet file or glob of feature rows")
    parser.add_argument("--out", required=True, help="registry: a folder or gs://bucket/prefix")
    parser.add_argument("--holdout", type=float, default=0.2, help="newest fraction held back")
    parser.add_argument("--vertex-project", help="also upload to the Vertex AI Model Registry")
    parser.add_argument("--vertex-region", default="europe-west1")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if not 0 <= args.holdout < 1:
            raise TrainingError("--holdout: must be in [0, 1)")
        if args.source == "warehouse":
            if not args.warehouse:
                raise TrainingError("--warehouse: required with --source warehouse")
            rows = read_warehouse(args.warehouse, args.query)
            source = args.warehouse
        else:
            if not args.parquet:
                raise TrainingError("--parquet: required with --source parquet")
            rows = read_parquet(args.parquet)
            source = args.parquet
        result = train(rows, args.out, holdout=args.holdout, source=source)
    except TrainingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.vertex_project:
        from anomaly_detection_model.vertex.model_registry import upload

        upload(args.out, result.version, project=args.vertex_project, region=args.vertex_region)
    print(json.dumps({"version": result.version, "registry": args.out, **result.metrics}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
