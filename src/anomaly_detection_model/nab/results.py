"""Write anomaly scores in NAB's results layout, so NAB's own tools can re-score them:
`<out>/<category>/<detector>_<file>.csv` with columns `timestamp,value,anomaly_score`."""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from anomaly_detection_model.nab.corpus import NabFile


def write_results(
    out_dir: Path,
    detector: str,
    files: Sequence[NabFile],
    scores: dict[str, npt.NDArray[np.float64]],
) -> list[Path]:
    """Write one CSV per file; scores are clipped to [0, 1]. Returns the paths written."""
    written: list[Path] = []
    for nab_file in files:
        folder = out_dir / nab_file.category
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{detector}_{nab_file.name}"
        clipped = np.clip(np.nan_to_num(scores[nab_file.key], nan=0.0), 0.0, 1.0)
        with path.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["timestamp", "value", "anomaly_score"])
            for stamp, value, score in zip(
                nab_file.timestamps, nab_file.values, clipped, strict=True
            ):
                shown = "" if math.isnan(value) else repr(float(value))
                writer.writerow([stamp, shown, repr(float(score))])
        written.append(path)
    return written
