"""NAB scores of the univariate detector beside the baselines, on the shared NAB copy.

Prints the three profile scores (threshold optimised over the corpus, as NAB's scoreboard
does) and the detector's own fixed threshold; writes `results/nab.json`. Targets on these
51 files: standard >= 77.1, reward_low_FP_rate >= 72.7, reward_low_FN_rate >= 82.3.
Pass detector names as arguments to run only those.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from anomaly_detection_model.detectors.catalogue import entries
from anomaly_detection_model.nab.corpus import load_corpus
from anomaly_detection_model.nab.evaluation import run_detector, score_corpus
from anomaly_detection_model.nab.scoring import load_profiles

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


def main(names: list[str]) -> None:
    console = Console()
    files = load_corpus(NAB / "data", NAB / "labels" / "combined_windows.json")
    profiles = load_profiles(NAB / "config" / "profiles.json")
    catalogue = entries("univariate")
    table = Table(title=f"NAB, {len(files)} files, threshold optimised per profile")
    table.add_column("detector")
    for profile in profiles:
        table.add_column(profile.name, justify="right")
    table.add_column("fixed-threshold standard", justify="right")
    table.add_column("seconds", justify="right")
    results: dict[str, object] = {}
    for name in names or DETECTORS:
        entry = catalogue[name]
        started = time.perf_counter()
        scores = run_detector(files, entry.make)
        seconds = time.perf_counter() - started
        report = score_corpus(name, files, scores, profiles, entry.threshold)
        results[name] = report.as_dict() | {"seconds": round(seconds, 2)}
        table.add_row(
            name,
            *(f"{p.total.score:.1f}" for p in report.optimised),
            f"{report.fixed[0].total.score:.1f}",
            f"{seconds:.1f}",
        )
    for name, published in PUBLISHED.items():
        table.add_row(
            f"[dim]{name} (published)[/dim]", *(f"[dim]{s}[/dim]" for s in published), "", ""
        )
    table.add_row("[bold]target[/bold]", *(f"{TARGETS[p.name]}" for p in profiles), "", "")
    console.print(table)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"targets": TARGETS, "detectors": results}, indent=2))


if __name__ == "__main__":
    main(sys.argv[1:])
