"""Point-wise and event-level metrics for labelled anomaly segments.

Honest metrics first: point-wise F1; event recall (a labelled segment is caught if any alert
falls inside it); event precision (a run of consecutive alerts is a true alarm if it overlaps
a segment); mean delay from segment start to its first alert, in steps. Point-adjusted F1
(every point of a caught segment counts as detected) is reported only as a labelled extra:
it inflates results, a random detector can look state of the art under it (Kim et al. 2022).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import numpy.typing as npt

BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class EventMetrics:
    """Metrics of one series (or their macro average)."""

    point_precision: float
    point_recall: float
    point_f1: float
    event_recall: float
    event_precision: float
    event_f1: float
    mean_delay: float  # steps from segment start to first alert, over caught segments; nan if none
    point_adjusted_f1: float
    segments: int
    alarms: int

    def as_dict(self) -> dict[str, float]:
        return {k: float(v) for k, v in asdict(self).items()}


def runs(mask: npt.ArrayLike) -> list[tuple[int, int]]:
    """The [start, end) index ranges of consecutive True values."""
    flags = np.asarray(mask, dtype=bool)
    if flags.size == 0:
        return []
    padded = np.concatenate([[False], flags, [False]])
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    return [(int(s), int(e)) for s, e in zip(edges[::2], edges[1::2], strict=True)]


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0


def evaluate(labels: npt.ArrayLike, alerts: npt.ArrayLike) -> EventMetrics:
    """All metrics for one series of 0/1 labels and 0/1 alerts of equal length."""
    truth = np.asarray(labels).astype(bool)
    pred = np.asarray(alerts).astype(bool)
    if truth.shape != pred.shape:
        raise ValueError(f"labels and alerts differ in length: {truth.shape} vs {pred.shape}")
    tp = int(np.sum(truth & pred))
    precision = tp / int(pred.sum()) if pred.any() else 0.0
    recall = tp / int(truth.sum()) if truth.any() else 0.0

    segments = runs(truth)
    alarms = runs(pred)
    delays: list[int] = []
    for start, end in segments:
        hits = np.flatnonzero(pred[start:end])
        if hits.size:
            delays.append(int(hits[0]))
    event_recall = len(delays) / len(segments) if segments else 0.0
    true_alarms = sum(1 for s, e in alarms if truth[s:e].any())
    event_precision = true_alarms / len(alarms) if alarms else 0.0

    adjusted = pred.copy()
    for start, end in segments:
        if pred[start:end].any():
            adjusted[start:end] = True
    atp = int(np.sum(truth & adjusted))
    a_precision = atp / int(adjusted.sum()) if adjusted.any() else 0.0
    a_recall = atp / int(truth.sum()) if truth.any() else 0.0

    return EventMetrics(
        point_precision=precision,
        point_recall=recall,
        point_f1=_f1(precision, recall),
        event_recall=event_recall,
        event_precision=event_precision,
        event_f1=_f1(event_precision, event_recall),
        mean_delay=float(np.mean(delays)) if delays else float("nan"),
        point_adjusted_f1=_f1(a_precision, a_recall),
        segments=len(segments),
        alarms=len(alarms),
    )


def macro_average(results: list[EventMetrics]) -> EventMetrics:
    """The unweighted mean over entities; event F1 is the harmonic mean of the macro event
    recall and macro event precision (how the published baselines are compared)."""
    if not results:
        raise ValueError("no results to average")

    def mean(name: str) -> float:
        values = np.array([getattr(r, name) for r in results], dtype=np.float64)
        finite = values[np.isfinite(values)]
        return float(finite.mean()) if finite.size else float("nan")

    event_recall, event_precision = mean("event_recall"), mean("event_precision")
    return EventMetrics(
        point_precision=mean("point_precision"),
        point_recall=mean("point_recall"),
        point_f1=mean("point_f1"),
        event_recall=event_recall,
        event_precision=event_precision,
        event_f1=_f1(event_precision, event_recall),
        mean_delay=mean("mean_delay"),
        point_adjusted_f1=mean("point_adjusted_f1"),
        segments=sum(r.segments for r in results),
        alarms=sum(r.alarms for r in results),
    )
