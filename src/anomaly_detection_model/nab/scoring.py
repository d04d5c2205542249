"""NAB's scoring rules (Lavin & Ahmad 2015, NAB v1.1), written from their description.

- Rows in the probationary period, the first min(floor(15% of rows), 750), are not scored.
- A detection is a row whose anomaly score is at or above the threshold.
- Inside a window only the first detection counts; it earns tpWeight times the scaled
  sigmoid of its relative position, divided by the sigmoid at the window's start (so the
  earliest possible detection earns exactly tpWeight). A window with no detection costs
  fnWeight.
- Every detection outside a window costs fpWeight times the scaled sigmoid of its distance
  after the preceding window's end, measured in that window's widths (-1 before any window).
- The corpus score is normalised so the null detector scores 0 and the perfect one 100.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from anomaly_detection_model.nab.corpus import CorpusError

PROBATION_FRACTION = 0.15
PROBATION_CAP_ROWS = 750


@dataclass(frozen=True)
class CostProfile:
    """One NAB application profile: weights of true positives, false positives, misses."""

    name: str
    tp_weight: float
    fp_weight: float
    fn_weight: float


NAB_PROFILES = (
    CostProfile("standard", 1.0, 0.11, 1.0),
    CostProfile("reward_low_FP_rate", 1.0, 0.22, 1.0),
    CostProfile("reward_low_FN_rate", 1.0, 0.11, 2.0),
)


def load_profiles(path: Path | None) -> tuple[CostProfile, ...]:
    """Read NAB's `config/profiles.json`; NAB's three published profiles when `path` is None."""
    if path is None:
        return NAB_PROFILES
    try:
        raw = json.loads(path.read_text())
        return tuple(
            CostProfile(
                name,
                float(body["CostMatrix"]["tpWeight"]),
                float(body["CostMatrix"]["fpWeight"]),
                float(body["CostMatrix"]["fnWeight"]),
            )
            for name, body in raw.items()
        )
    except (OSError, json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
        raise CorpusError(f"{path}: not a NAB profiles file (CostMatrix.*Weight): {exc}") from None


def scaled_sigmoid(position: float) -> float:
    """2/(1+e^(5y)) - 1: about +1 at a window's start (y=-1), 0 at its end, -1 far after it."""
    if position >= 3.0:
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * position)) - 1.0


MAX_TP = scaled_sigmoid(-1.0)


def probation_length(rows: int) -> int:
    """Rows at the start of a file that are never scored."""
    return min(math.floor(PROBATION_FRACTION * rows), PROBATION_CAP_ROWS)


@dataclass(frozen=True)
class FileSweep:
    """What a detection at each row of one file would be worth under one profile."""

    weights: npt.NDArray[np.float64]
    window: npt.NDArray[np.int64]  # index into the file's windows, -1 outside every window
    scorable: npt.NDArray[np.bool_]
    scored_windows: tuple[int, ...]  # windows with at least one scorable row
    fn_weight: float

    @property
    def null_score(self) -> float:
        """The raw score of a detector that never detects."""
        return -self.fn_weight * len(self.scored_windows)


def sweep_file(rows: int, windows: Sequence[tuple[int, int]], profile: CostProfile) -> FileSweep:
    """Weight every row of a file: the TP value inside windows, the FP cost outside them."""
    weights = np.empty(rows, dtype=np.float64)
    window_of = np.full(rows, -1, dtype=np.int64)
    ordered = sorted(windows)
    previous: tuple[int, int] | None = None
    cursor = 0
    for index, (left, right) in enumerate([*ordered, (rows, rows)]):
        # Rows between the previous window and this one are false-positive territory.
        for i in range(cursor, min(left, rows)):
            if previous is None:
                position = 3.0
            else:
                width = previous[1] - previous[0] + 1
                position = abs(i - previous[1]) / (width - 1) if width > 1 else 3.0
            weights[i] = scaled_sigmoid(position) * profile.fp_weight
        if left >= rows:
            break
        width = right - left + 1
        for i in range(left, right + 1):
            position = -(right - i + 1) / width
            weights[i] = scaled_sigmoid(position) * profile.tp_weight / MAX_TP
            window_of[i] = index
        previous = (left, right)
        cursor = right + 1
    scorable = np.arange(rows) >= probation_length(rows)
    scored = tuple(sorted({int(w) for w in window_of[scorable] if w >= 0}))
    return FileSweep(weights, window_of, scorable, scored, profile.fn_weight)


@dataclass(frozen=True)
class Tally:
    """A raw score with its parts: detected windows, missed windows, false-positive rows."""

    raw: float
    tp: int
    fn: int
    fp: int

    def __add__(self, other: Tally) -> Tally:
        return Tally(
            self.raw + other.raw, self.tp + other.tp, self.fn + other.fn, self.fp + other.fp
        )


def score_file(sweep: FileSweep, scores: npt.NDArray[np.float64], threshold: float) -> Tally:
    """The raw NAB score of one file's anomaly scores at one threshold."""
    detected = sweep.scorable & (np.asarray(scores, dtype=np.float64) >= threshold)
    outside = detected & (sweep.window < 0)
    raw = float(sweep.weights[outside].sum())
    tp = 0
    for window in sweep.scored_windows:
        hits = detected & (sweep.window == window)
        if hits.any():
            # The first detection is the earliest, and the sigmoid falls along the window,
            # so the first detection is also the best-weighted one.
            raw += float(sweep.weights[hits].max())
            tp += 1
        else:
            raw -= sweep.fn_weight
    return Tally(raw, tp, len(sweep.scored_windows) - tp, int(outside.sum()))


@dataclass(frozen=True)
class ThresholdCurve:
    """The corpus raw score at every distinct threshold, highest threshold first."""

    thresholds: npt.NDArray[np.float64]
    raw: npt.NDArray[np.float64]

    def best(self) -> tuple[float, float]:
        """The threshold with the highest score (the highest such threshold on ties)."""
        index = int(np.argmax(self.raw))
        return float(self.thresholds[index]), float(self.raw[index])


def threshold_curve(
    runs: Sequence[tuple[FileSweep, npt.NDArray[np.float64]]],
) -> ThresholdCurve:
    """Sweep every distinct score as a threshold over many files at once.

    Lowering the threshold past a score adds that row as a detection: an FP row adds its
    cost; a window row raises the window's value to the best detection seen so far. Each
    row therefore contributes one increment at its own score, and the score at a threshold
    is the null score plus every increment at or above it.
    """
    event_scores: list[npt.NDArray[np.float64]] = []
    event_deltas: list[npt.NDArray[np.float64]] = []
    null = 0.0
    for sweep, scores in runs:
        scores = np.asarray(scores, dtype=np.float64)
        null += sweep.null_score
        outside = sweep.scorable & (sweep.window < 0)
        event_scores.append(scores[outside])
        event_deltas.append(sweep.weights[outside])
        for window in sweep.scored_windows:
            rows = np.flatnonzero(sweep.scorable & (sweep.window == window))
            order = np.argsort(-scores[rows], kind="stable")
            best = np.maximum.accumulate(sweep.weights[rows][order])
            gains = np.diff(best, prepend=-sweep.fn_weight)
            event_scores.append(scores[rows][order])
            event_deltas.append(gains)
    all_scores = np.concatenate(event_scores) if event_scores else np.empty(0)
    all_deltas = np.concatenate(event_deltas) if event_deltas else np.empty(0)
    keep = np.isfinite(all_scores)
    all_scores, all_deltas = all_scores[keep], all_deltas[keep]
    order = np.argsort(-all_scores, kind="stable")
    all_scores, all_deltas = all_scores[order], all_deltas[order]
    totals = null + np.cumsum(all_deltas)
    # The score at threshold t includes every row scoring >= t: the last row of each run of
    # equal scores closes that threshold.
    last_of_run = np.ones(all_scores.size, dtype=bool)
    last_of_run[:-1] = all_scores[:-1] != all_scores[1:]
    thresholds = np.concatenate([[np.inf], all_scores[last_of_run]])
    raw = np.concatenate([[null], totals[last_of_run]])
    return ThresholdCurve(thresholds, raw)


def normalised(raw: float, null: float, perfect: float) -> float:
    """NAB's normalisation: 0 for the null detector, 100 for the perfect one."""
    if perfect == null:
        return 0.0
    return 100.0 * (raw - null) / (perfect - null)


def perfect_score(sweeps: Sequence[FileSweep], profile: CostProfile) -> float:
    """A detector that fires on the first row of every scored window earns tpWeight each.

    NAB counts every labelled window here, scored or not; a window lying wholly inside the
    probationary period can be neither caught nor missed, so it is left out of both the
    perfect and the null score (no such window exists in NAB's corpus, where the two agree).
    """
    return profile.tp_weight * sum(len(s.scored_windows) for s in sweeps)
