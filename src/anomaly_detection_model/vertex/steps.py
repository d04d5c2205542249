"""The pipeline's container steps that `train.py` does not cover: extract, compare, promote.

A candidate beats the current model when it cries wolf less on its held-back range (lower
critical rate, then lower anomaly rate), with a small tolerance so noise does not churn
versions; any candidate beats an empty registry.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from anomaly_detection_model.registry import Registry, RegistryError

TOLERANCE = 0.002


def extract(warehouse: str, query: str, out: str) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from anomaly_detection_model.train import read_warehouse

    rows = read_warehouse(warehouse, query)
    for row in rows:
        for key in ("event_reasons", "log_templates"):
            row[key] = json.dumps(row.get(key) or {})
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows), out)
    return len(rows)


def candidate_is_better(candidate: dict[str, Any], current: dict[str, Any] | None) -> bool:
    if current is None:
        return True
    new, old = candidate.get("metrics", {}), current.get("metrics", {})
    for key in ("holdout_critical_rate", "holdout_anomaly_rate"):
        a, b = new.get(key), old.get(key)
        if a is None or b is None:
            continue
        if a < b - TOLERANCE:
            return True
        if a > b + TOLERANCE:
            return False
    return False


def compare(candidate: str, current: str) -> str:
    new = Registry(candidate).metadata()
    try:
        old: dict[str, Any] | None = Registry(current).metadata()
    except RegistryError:
        old = None
    return "promote" if candidate_is_better(new, old) else "keep"


def promote(candidate: str, registry: str) -> str:
    artefact = Registry(candidate).load()
    metadata = {**artefact.metadata, "promoted_from": f"{candidate}@{artefact.version}"}
    return Registry(registry).register(artefact.model, metadata)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m anomaly_detection_model.vertex.steps")
    steps = parser.add_subparsers(dest="step", required=True)
    e = steps.add_parser("extract")
    e.add_argument("--warehouse", required=True)
    e.add_argument("--query", required=True)
    e.add_argument("--out", required=True)
    c = steps.add_parser("compare")
    c.add_argument("--candidate", required=True)
    c.add_argument("--current", required=True)
    c.add_argument("--decision", required=True)
    p = steps.add_parser("promote")
    p.add_argument("--candidate", required=True)
    p.add_argument("--registry", required=True)
    p.add_argument("--vertex-project")
    p.add_argument("--vertex-region", default="europe-west1")
    args = parser.parse_args(argv)
    if args.step == "extract":
        print(extract(args.warehouse, args.query, args.out))
    elif args.step == "compare":
        decision = compare(args.candidate, args.current)
        Path(args.decision).parent.mkdir(parents=True, exist_ok=True)
        Path(args.decision).write_text(decision)
        print(decision)
    else:
        version = promote(args.candidate, args.registry)
        if args.vertex_project:
            from anomaly_detection_model.vertex.model_registry import upload

            upload(args.registry, version, project=args.vertex_project, region=args.vertex_region)
        print(version)
    return 0


if __name__ == "__main__":
    sys.exit(main())
