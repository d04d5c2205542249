"""NAB scores of the univariate detector beside the baselines, on the shared NAB copy.

Prints the three profile scores (threshold optimised over the corpus, as NAB's scoreboard
does), the detector's own fixed threshold, and leave-one-category-out (each category scored
at the threshold that is best on the other categories: how the optimised threshold fares on
a category it was not chosen on); writes `results/nab.json`. Targets on these 51 files:
standard >= 77.1, reward_low_FP_rate >= 72.7, reward_low_FN_rate >= 82.3.
Pass detector names as arguments to run only those.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import numpy.typing as npt
from rich.console import Console
from rich.table import Table

from anomaly_detection_model.detectors.catalogue import entries
from anomaly_detection_model.nab.corpus import NabFile, load_corpus
from anomaly_detection_model.nab.evaluation import run_detector, score_corpus
from anomaly_detection_model.nab.scoring import (
    CostProfile,
    load_profiles,
    normalised,
    perfect_score,
    score_file,
    sweep_file,
    threshold_curve,
)

NAB = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "nab"
RESULTS = Path(__file__).parent / "results" / "nab.json"
DETECTORS = ("univariate", "windowed_gaussian", "pyod_iforest", "river_hst")
TARGETS = {"standard": 77.1, "reward_low_FP_rate": 72.7, "reward_low_FN_rate": 82.3}
PUBLISHED = {  # the same published detectors on these 51 files (datasets/README.md)
    "ARTime": (77.0, 67.7, 82.3),
    "CAD OSE": (75.4, 72.6, 78.5),
    "Numenta HTM": (73.0, 66.6, 76.8),
    "Windowed Gaussian": (44.8, 23.0, 53.6),
}


def leave_one_category_out(
    files: list[NabFile], scores: dict[str, npt.NDArray[np.float64]], profile: CostProfile
) -> float:
    """The corpus score when each category is scored at the threshold best on the others."""
    sweeps = [sweep_file(len(f), f.windows, profile) for f in files]
    raw = 0.0
    for category in sorted({f.category for f in files}):
        others = [
            (s, scores[f.key]) for f, s in zip(files, sweeps, strict=True) if f.category != category
        ]
        threshold, _ = threshold_curve(others).best()
        raw += sum(
            score_file(s, scores[f.key], threshold).raw
            for f, s in zip(files, sweeps, strict=True)
            if f.category == category
        )
    null = sum(s.null_score for s in sweeps)
    return float(normalised(raw, null, perfect_score(sweeps, profile)))


def main(names: list[str]) -> None:
    console = Console()
    files = load_corpus(NAB / "data", NAB / "labels" / "combined_windows.json")
    profiles = load_profiles(NAB / "config" / "profiles.json")
    catalogue = entries("univariate")
    table = Table(title=f"NAB, {len(files)} files, threshold optimised per profile")
    table.add_column("detector")
    for profile in profiles:
        table.add_column(profile.name, justify="right")
    table.add_column("fixed threshold", justify="right")
    table.add_column("leave-one-category-out", justify="right")
    table.add_column("seconds", justify="right")
    results: dict[str, object] = {}
    for name in names or DETECTORS:
        entry = catalogue[name]
        started = time.perf_counter()
        scores = run_detector(files, entry.make)
        seconds = time.perf_counter() - started
        report = score_corpus(name, files, scores, profiles, entry.threshold)
        loco = {p.name: leave_one_category_out(files, scores, p) for p in profiles}
        results[name] = report.as_dict() | {
            "leave_one_category_out": {k: round(v, 3) for k, v in loco.items()},
            "seconds": round(seconds, 2),
        }
        table.add_row(
            name,
            *(f"{p.total.score:.1f}" for p in report.optimised),
            " / ".join(f"{p.total.score:.1f}" for p in report.fixed),
            " / ".join(f"{v:.1f}" for v in loco.values()),
            f"{seconds:.1f}",
        )
    for name, published in PUBLISHED.items():
        table.add_row(
            f"[dim]{name} (published)[/dim]", *(f"[dim]{s}[/dim]" for s in published), "", "", ""
        )
    table.add_row("[bold]target[/bold]", *(f"{TARGETS[p.name]}" for p in profiles), "", "", "")
    console.print(table)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"targets": TARGETS, "detectors": results}, indent=2))


if __name__ == "__main__":
    main(sys.argv[1:])
