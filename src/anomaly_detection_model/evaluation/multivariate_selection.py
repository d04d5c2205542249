"""Choose a multivariate detector's settings from training data only, never from test labels.

The rule: hold out the last quarter of each entity's `train`; fit every candidate on the
first quarter (half of `train` lies between the two, so the held-out part is as far from the
fitted part as `train` allows: the test half lies, on average, half a train-length after the
fit, and slow drift is part of what a setting must survive) and take its threshold as the
usual high quantile of its scores there;
inject synthetic anomalies of generic kinds into copies of the held-out quarter (level
shifts, spikes, ramps, frozen metrics, metrics swapped with another moment's values, which
breaks their correlation with the rest, and surges: all metrics moving together along their
main direction of joint variation, as they normally do, but much further); and score the
candidate there exactly as the real evaluation would (point-wise F1 and event F1, macro-averaged). The false alarms in the
held-out quarter count against a candidate too, so calibration is part of the criterion.
The candidate with the best mean of point F1 and event F1, averaged over groups (data sets),
wins; ties go to the earlier (simpler) candidate. The test halves and their labels are never
an input: the functions below take training arrays only.

This follows the synthetic-injection idea of unsupervised model selection for anomaly
detection (Goswami et al., ICLR 2023); the injected kinds and sizes are fixed here, not
fitted to any data set. Known limit: drift beyond what half a training period shows (as
machine-1-6 of SMD, whose test half sits in another regime) is still not seen.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from anomaly_detection_model.evaluation.events import EventMetrics, evaluate, macro_average
from anomaly_detection_model.evaluation.multivariate import (
    DEFAULT_QUANTILE,
    BatchDetector,
    DataError,
)

Array = npt.NDArray[np.float64]
HOLDOUT = 0.25  # the last quarter of train plays the part of the test half
FITTED = 0.25  # the first quarter plays the part of train; the half between is the gap
ROWS_PER_SEGMENT = 400  # one injected anomaly per this many held-out rows
MIN_LENGTH, MAX_LENGTH = 3, 60  # injected segment lengths, log-uniform between these
KINDS = ("shift", "spike", "ramp", "freeze", "swap", "surge")
SEEDS = (0, 1, 2)


@dataclass(frozen=True)
class LaggedSetting:
    """One candidate setting of `LaggedReconstruction` (the rest stay at their defaults)."""

    lags: int
    smoothing: float
    variance: float
    in_subspace: bool
    fast_attack: bool = False
    range_quantile: float | None = None
    range_metrics: int = 1

    @property
    def label(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in asdict(self).items())

    def make(self) -> BatchDetector:
        from anomaly_detection_model.detectors.multivariate import LaggedReconstruction

        return LaggedReconstruction(**asdict(self))


RANGE_QUANTILE = 0.999  # range novelty's band: the training range without its 0.1 % tails
# The evidence beside the two reconstruction errors, simplest first: none, the in-subspace
# distance (T²), range novelty of the single most novel metric, or of the second most novel
# (two metrics outside their ranges together). One at a time: T² and range novelty both see
# moves inside the principal subspace, and the grid stays twice its size without them.
EVIDENCE: tuple[dict[str, Any], ...] = (
    {"in_subspace": False},
    {"in_subspace": True},
    {"in_subspace": False, "range_quantile": RANGE_QUANTILE, "range_metrics": 1},
    {"in_subspace": False, "range_quantile": RANGE_QUANTILE, "range_metrics": 2},
)
# The settings the rule chooses among, simplest first (ties go to the first).
LAGGED_GRID: tuple[LaggedSetting, ...] = tuple(
    LaggedSetting(lags=lags, smoothing=smoothing, variance=variance, fast_attack=fast, **extra)
    for lags, smoothing, variance, extra, fast in itertools.product(
        (1, 2, 3), (0.3, 0.5, 0.7), (0.85, 0.9, 0.95), EVIDENCE, (False, True)
    )
)


def training_arrays(folder: Path) -> dict[str, Array]:
    """Each entity's `train` array from a folder of `.npz` files; nothing else is read."""
    files = sorted(folder.glob("*.npz")) if folder.is_dir() else []
    if not files:
        raise DataError(f"--data: {folder} holds no .npz files")
    arrays = {}
    for path in files:
        with np.load(path, allow_pickle=False) as data:
            if "train" not in data.files:
                raise DataError(f"{path.name}: missing array 'train'")
            arrays[path.stem] = np.asarray(data["train"], dtype=np.float64)
    return arrays


@dataclass(frozen=True)
class HeldOutCase:
    """One entity's training head, and its held-out tail with injected anomalies."""

    group: str
    entity: str
    head: Array
    tail: Array
    labels: npt.NDArray[np.int8]


@dataclass(frozen=True)
class CandidateScore:
    """How one candidate did on the held-out cases: per group and overall."""

    name: str
    by_group: dict[str, EventMetrics]

    def group_criterion(self, group: str) -> float:
        m = self.by_group[group]
        return (m.point_f1 + m.event_f1) / 2

    @property
    def criterion(self) -> float:
        return float(np.mean([self.group_criterion(g) for g in self.by_group]))


@dataclass(frozen=True)
class Selection:
    """Every candidate's score (in the order given) and the one the rule picks."""

    scores: list[CandidateScore]

    def best(self, group: str | None = None) -> CandidateScore:
        """The winner overall, or on one group's cases only (for cross-data-set checks)."""

        def key(s: CandidateScore) -> float:
            return s.criterion if group is None else s.group_criterion(group)

        # max keeps the first of equal scores: the earlier, simpler candidate wins ties.
        return max(self.scores, key=key)


def _main_direction(head: Array, scale: Array, moving: npt.NDArray[np.intp]) -> Array:
    """One training spread along the head's first principal direction, in raw units."""
    z = (head[:, moving] - head[:, moving].mean(axis=0)) / scale[moving]
    values, vectors = np.linalg.eigh(np.cov(z, rowvar=False).reshape(moving.size, moving.size))
    direction = np.zeros(head.shape[1])
    direction[moving] = vectors[:, -1] * np.sqrt(max(float(values[-1]), 0.0)) * scale[moving]
    return direction


def _column_scales(head: Array) -> tuple[Array, npt.NDArray[np.intp]]:
    """Each column's spread on the training head, and the columns that move at all."""
    scale = np.nanstd(head, axis=0)
    moving = np.flatnonzero(np.isfinite(scale) & (scale > 1e-4))
    if moving.size == 0:  # nothing moves: inject in units of 1 into any column
        return np.ones(head.shape[1]), np.arange(head.shape[1])
    return np.where(np.isfinite(scale) & (scale > 1e-4), scale, 1.0), moving


def inject(
    head: Array, tail: Array, rng: np.random.Generator
) -> tuple[Array, npt.NDArray[np.int8]]:
    """A copy of `tail` with synthetic anomalous segments, and their 0/1 labels.

    One segment per `ROWS_PER_SEGMENT` rows, each inside its own slot of the tail so
    segments never touch; each changes 1-3 of the columns that vary in `head`, by amounts
    in units of that column's spread in `head`.
    """
    data = np.array(tail, dtype=np.float64, copy=True)
    labels = np.zeros(len(data), dtype=np.int8)
    scale, moving = _column_scales(head)
    surge = _main_direction(head, scale, moving)
    count = max(1, len(data) // ROWS_PER_SEGMENT)
    slot = len(data) // count
    for i in range(count):
        kind = KINDS[int(rng.integers(len(KINDS)))]
        length = round(float(np.exp(rng.uniform(np.log(MIN_LENGTH), np.log(MAX_LENGTH)))))
        if kind == "spike":
            length = int(rng.integers(1, 4))
        # Leave a gap of a third of the slot after each segment so alarms cannot merge.
        length = max(1, min(length, slot // 2))
        start = i * slot + int(rng.integers(0, max(1, slot - length - slot // 3)))
        end = start + length
        columns = rng.choice(moving, size=min(int(rng.integers(1, 4)), moving.size), replace=False)
        sign = rng.choice([-1.0, 1.0], size=columns.size)
        size = scale[columns]
        if kind == "shift":
            data[start:end, columns] += sign * rng.uniform(3, 6, columns.size) * size
        elif kind == "spike":
            data[start:end, columns] += sign * rng.uniform(6, 12, columns.size) * size
        elif kind == "ramp":
            ramp = np.linspace(0, 1, length)[:, None]
            data[start:end, columns] += ramp * sign * rng.uniform(4, 8, columns.size) * size
        elif kind == "freeze":
            data[start:end, columns] = data[max(start - 1, 0), columns]
        elif kind == "surge":
            data[start:end] += sign[0] * rng.uniform(3, 6) * surge
        else:  # swap: plausible values of these metrics, from another moment of the head
            origin = int(rng.integers(0, max(1, len(head) - length)))
            data[start:end, columns] = head[origin : origin + length, columns]
        labels[start:end] = 1
    return data, labels


def held_out_cases(
    trains: Mapping[str, Mapping[str, Array]], seeds: Sequence[int] = SEEDS
) -> list[HeldOutCase]:
    """Cases from training arrays: `trains[group][entity]` is one entity's `train`."""
    cases = []
    for group, by_entity in trains.items():
        for index, (entity, train) in enumerate(sorted(by_entity.items())):
            data = np.asarray(train, dtype=np.float64)
            fitted, split = int(len(data) * FITTED), int(len(data) * (1 - HOLDOUT))
            if fitted < 2 or len(data) - split < 2:
                raise ValueError(f"{group}/{entity}: too few training rows to hold any out")
            head, tail = data[:fitted], data[split:]
            for seed in seeds:
                rng = np.random.default_rng([seed, index, len(group)])
                injected, labels = inject(head, tail, rng)
                cases.append(HeldOutCase(group, entity, head, injected, labels))
    return cases


def select(
    candidates: Mapping[str, Callable[[], BatchDetector]],
    cases: Sequence[HeldOutCase],
    quantile: float = DEFAULT_QUANTILE,
    progress: Callable[[str], None] | None = None,
) -> Selection:
    """Score every candidate on every held-out case; the `Selection` names the winner."""
    if not candidates or not cases:
        raise ValueError("select: needs at least one candidate and one held-out case")
    # Fitting depends on the head only, not on the injection seed: fit once per entity.
    scores = []
    for name, make in candidates.items():
        if progress:
            progress(name)
        per_group: dict[str, list[EventMetrics]] = {}
        fits: dict[tuple[str, str], tuple[BatchDetector, float]] = {}
        for case in cases:
            key = (case.group, case.entity)
            if key not in fits:
                fitted = make().fit(case.head)
                pristine = copy.deepcopy(fitted)
                threshold = float(np.quantile(fitted.score(case.head), quantile))
                fits[key] = (pristine, threshold)
            pristine, threshold = fits[key]
            alerts = copy.deepcopy(pristine).score(case.tail) > threshold
            per_group.setdefault(case.group, []).append(evaluate(case.labels, alerts))
        scores.append(CandidateScore(name, {g: macro_average(ms) for g, ms in per_group.items()}))
    return Selection(scores)
