"""Log detector beside the plain new-template baseline, and Drain grouping accuracy.

Data: labelled samples generated from realistic templates (`anomaly_detection_model.logs.sample`,
three seeds; the first is the test sample) plus any Loghub-format CSVs given as arguments
(columns Label, Content and EventId). Event-level precision/recall/F1 are over runs of
anomalous lines. Grouping accuracy (Zhu et al., ICSE 2019) is measured for our Drain and, when
`/tmp/drain3-venv` exists (`benchmarks/drain3_venv.sh`), for drain3 on the same lines.
Writes `results/logs.json`.

Honesty note: the generated samples are easy for any Drain (few, well-separated templates);
they show the detectors' event metrics, not a parser ranking. Loghub files are the real test.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from anomaly_detection_model.evaluation.logs import (
    LOG_DETECTORS,
    LabelledLines,
    drain_groups,
    evaluate_logs,
    grouping_accuracy,
    read_labelled,
)
from anomaly_detection_model.logs.sample import generate, write_csv

RESULTS = Path(__file__).parent / "results" / "logs.json"
DRAIN3_PYTHON = Path("/tmp/drain3-venv/bin/python")
SEEDS = (7, 11, 23)


def drain3_groups(csv_path: Path, *, masked: bool) -> list[int] | None:
    if not DRAIN3_PYTHON.exists():
        return None
    script = Path(__file__).parent / "drain3_groups.py"
    argv = [str(DRAIN3_PYTHON), str(script), str(csv_path), *(["--masked"] if masked else [])]
    out = subprocess.run(argv, capture_output=True, text=True, check=True)
    groups: list[int] = json.loads(out.stdout)
    return groups


def main(extra: list[str]) -> None:
    console = Console(width=150)
    workdir = Path(tempfile.mkdtemp())
    files = [write_csv(workdir / f"generated_seed{s}.csv", generate(seed=s)) for s in SEEDS]
    files += [Path(p) for p in extra]
    detectors = Table(title="Log detectors, event level (runs of anomalous lines)")
    for column in ("data", "lines", "incidents", *(f"{n} P/R/F1" for n in LOG_DETECTORS)):
        detectors.add_column(column, justify="left" if column == "data" else "right")
    parsing = Table(title="Drain grouping accuracy")
    for column in (
        "data",
        "true templates",
        "ours",
        "ours groups",
        "drain3 default",
        "drain3 + our masks",
        "drain3 groups",
        "ours s",
    ):
        parsing.add_column(column, justify="left" if column == "data" else "right")
    results: dict[str, object] = {}
    for path in files:
        lines: LabelledLines = read_labelled(path, require_labels=False)
        entry: dict[str, object] = {}
        if lines.labels.any():  # Loghub files other than BGL label templates, not incidents
            metrics = {name: evaluate_logs(lines, name) for name in LOG_DETECTORS}
            entry = {name: m.as_dict() for name, m in metrics.items()}
            detectors.add_row(
                path.name,
                str(len(lines.contents)),
                str(next(iter(metrics.values())).segments),
                *(
                    f"{m.event_precision:.2f}/{m.event_recall:.2f}/{m.event_f1:.3f}"
                    for m in metrics.values()
                ),
            )
        if lines.templates is not None:
            started = time.perf_counter()
            ours = drain_groups(lines.contents)
            seconds = time.perf_counter() - started
            theirs = drain3_groups(path, masked=False)
            masked = drain3_groups(path, masked=True)
            ga = grouping_accuracy(ours, lines.templates)
            ga3 = grouping_accuracy(theirs, lines.templates) if theirs is not None else None
            ga3m = grouping_accuracy(masked, lines.templates) if masked is not None else None
            entry["grouping_accuracy"] = {
                "ours": ga,
                "drain3_default": ga3,
                "drain3_our_masks": ga3m,
                "ours_seconds": seconds,
            }
            parsing.add_row(
                path.name,
                str(len(set(lines.templates))),
                f"{ga:.3f}",
                str(len(set(ours))),
                "not run (no /tmp/drain3-venv)" if ga3 is None else f"{ga3:.3f}",
                "-" if ga3m is None else f"{ga3m:.3f}",
                "-" if masked is None else str(len(set(masked))),
                f"{seconds:.2f}",
            )
        results[path.name] = entry
    console.print(detectors)
    console.print(parsing)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main(sys.argv[1:])
