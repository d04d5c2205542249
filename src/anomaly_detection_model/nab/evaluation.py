"""Run a detector over a NAB corpus and score it: per profile, per category and in total.

The detector is cloned fresh for every file and sees its rows strictly in order (score,
then learn): each row's value and, when the detector reads them (`ReadsRowTimes`), its time.
Never the labels, never a later row. One configuration serves every file; the threshold is either optimised over
the whole corpus (NAB's scoreboard) or the detector's own fixed threshold.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, cast, runtime_checkable

import numpy as np
import numpy.typing as npt

from anomaly_detection_model.base import Detector
from anomaly_detection_model.nab.corpus import NabFile
from anomaly_detection_model.nab.scoring import (
    CostProfile,
    FileSweep,
    Tally,
    normalised,
    perfect_score,
    score_file,
    sweep_file,
    threshold_curve,
)

Progress = Callable[[NabFile], None]


@runtime_checkable
class ReadsRowTimes(Protocol):
    """A detector that also reads each row's time (seconds since the Unix epoch)."""

    def score_with_times(
        self, xs: npt.NDArray[np.float64], times: npt.NDArray[np.float64]
    ) -> npt.NDArray[np.float64]:
        """Score the rows in order, as `score` does, each with its time."""
        ...


def run_detector(
    files: Sequence[NabFile],
    make_detector: Callable[[], Detector[float]],
    progress: Progress | None = None,
) -> dict[str, npt.NDArray[np.float64]]:
    """Prequential anomaly scores for every file, each from a fresh detector, clipped to [0, 1]."""
    scores: dict[str, npt.NDArray[np.float64]] = {}
    for nab_file in files:
        detector = make_detector()
        # Detectors take any sequence; an array lets vectorised detectors skip a conversion.
        if isinstance(detector, ReadsRowTimes):
            raw = detector.score_with_times(nab_file.values, nab_file.seconds())
        else:
            raw = detector.score(cast(Sequence[float], nab_file.values))
        scores[nab_file.key] = np.clip(np.nan_to_num(raw, nan=0.0), 0.0, 1.0)
        if progress is not None:
            progress(nab_file)
    return scores


@dataclass(frozen=True)
class GroupScore:
    """A normalised NAB score for a group of files (a category, or the whole corpus)."""

    score: float
    raw: float
    tp: int
    fn: int
    fp: int


@dataclass(frozen=True)
class ProfileScore:
    """One profile at one threshold: total and per category."""

    profile: str
    threshold: float
    total: GroupScore
    categories: dict[str, GroupScore] = field(default_factory=dict)


@dataclass(frozen=True)
class NabReport:
    """The scoreboard entry of one detector on one corpus."""

    detector: str
    files: int
    windows: int
    optimised: list[ProfileScore]
    fixed: list[ProfileScore]

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready form."""

        def group(g: GroupScore) -> dict[str, float | int]:
            return {
                "score": round(g.score, 3),
                "raw": round(g.raw, 4),
                "tp": g.tp,
                "fn": g.fn,
                "fp": g.fp,
            }

        def profile(p: ProfileScore) -> dict[str, object]:
            return {
                "threshold": p.threshold,
                "total": group(p.total),
                "categories": {name: group(g) for name, g in p.categories.items()},
            }

        return {
            "detector": self.detector,
            "files": self.files,
            "windows": self.windows,
            "optimised": {p.profile: profile(p) for p in self.optimised},
            "fixed": {p.profile: profile(p) for p in self.fixed},
        }


def _group(
    tallies: Sequence[Tally], sweeps: Sequence[FileSweep], profile: CostProfile
) -> GroupScore:
    total = Tally(0.0, 0, 0, 0)
    for tally in tallies:
        total = total + tally
    null = sum(s.null_score for s in sweeps)
    return GroupScore(
        normalised(total.raw, null, perfect_score(sweeps, profile)),
        total.raw,
        total.tp,
        total.fn,
        total.fp,
    )


def _profile_at(
    threshold: float,
    files: Sequence[NabFile],
    sweeps: Sequence[FileSweep],
    scores: dict[str, npt.NDArray[np.float64]],
    profile: CostProfile,
) -> ProfileScore:
    tallies = [score_file(s, scores[f.key], threshold) for f, s in zip(files, sweeps, strict=True)]
    categories: dict[str, GroupScore] = {}
    for category in sorted({f.category for f in files}):
        members = [i for i, f in enumerate(files) if f.category == category]
        categories[category] = _group(
            [tallies[i] for i in members], [sweeps[i] for i in members], profile
        )
    return ProfileScore(profile.name, threshold, _group(tallies, sweeps, profile), categories)


def score_corpus(
    detector: str,
    files: Sequence[NabFile],
    scores: dict[str, npt.NDArray[np.float64]],
    profiles: Sequence[CostProfile],
    fixed_threshold: float,
) -> NabReport:
    """Score anomaly scores against the corpus labels under every profile."""
    optimised: list[ProfileScore] = []
    fixed: list[ProfileScore] = []
    for profile in profiles:
        sweeps = [sweep_file(len(f), f.windows, profile) for f in files]
        curve = threshold_curve([(s, scores[f.key]) for f, s in zip(files, sweeps, strict=True)])
        best, _ = curve.best()
        optimised.append(_profile_at(best, files, sweeps, scores, profile))
        fixed.append(_profile_at(fixed_threshold, files, sweeps, scores, profile))
    windows = sum(len(f.windows) for f in files)
    return NabReport(detector, len(files), windows, optimised, fixed)
