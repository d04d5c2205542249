"""Evaluate log detectors on labelled lines, and Drain's grouping accuracy.

Input: a CSV with a label column (BGL style: `-` is normal, anything else anomalous) and a
content column. Lines are streamed in file order; an alert is a score at or above 0.5.
Event level: a run of consecutive anomalous lines is one incident (caught if any alert falls
in it); a run of consecutive alerts is one alarm (true if it overlaps an incident).
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from anomaly_detection_model.base import Detector
from anomaly_detection_model.evaluation.events import EventMetrics, evaluate
from anomaly_detection_model.logs.detector import NewTemplate, TemplateAnomaly
from anomaly_detection_model.logs.drain import Drain

LOG_DETECTORS = {"template_anomaly": TemplateAnomaly, "new_template": NewTemplate}


class LogDataError(ValueError):
    """The labelled log file cannot be read; the message names the column or line."""


@dataclass(frozen=True)
class LabelledLines:
    contents: list[str]
    labels: np.ndarray  # bool, True = anomalous
    templates: list[str] | None  # true template ids, when the file has them


def read_labelled(
    path: Path,
    label_column: str = "Label",
    content_column: str = "Content",
    *,
    require_labels: bool = True,
) -> LabelledLines:
    """Lines of a labelled CSV; without `require_labels`, a file with no label column reads
    as all-normal (for parser accuracy on Loghub files that label templates only)."""
    if not path.is_file():
        raise LogDataError(f"--data: {path} is not a file")
    with path.open(newline="", encoding="utf-8", errors="replace") as handle:
        reader = csv.DictReader(handle)
        columns = reader.fieldnames or []
        needed = (label_column, content_column) if require_labels else (content_column,)
        for column in needed:
            if column not in columns:
                raise LogDataError(f"--data: column {column!r} missing (found {columns})")
        rows = list(reader)
    if not rows:
        raise LogDataError(f"--data: {path} has no lines")
    template_column = next((c for c in ("EventId", "EventTemplate") if c in columns), None)
    return LabelledLines(
        contents=[r[content_column] or "" for r in rows],
        labels=np.array([(r.get(label_column) or "-").strip() != "-" for r in rows]),
        templates=[r[template_column] for r in rows] if template_column else None,
    )


def stream_scores(detector: Detector[str], lines: Sequence[str]) -> np.ndarray:
    return np.array([detector.score_then_learn(line) for line in lines], dtype=np.float64)


def evaluate_logs(data: LabelledLines, name: str) -> EventMetrics:
    if name not in LOG_DETECTORS:
        raise LogDataError(
            f"--detector: unknown log detector {name!r}; known: {sorted(LOG_DETECTORS)}"
        )
    scores = stream_scores(LOG_DETECTORS[name](), data.contents)
    return evaluate(data.labels, scores >= 0.5)


def grouping_accuracy(predicted: Sequence[object], truth: Sequence[object]) -> float:
    """Share of lines whose predicted group holds exactly the lines of their true group."""
    if len(predicted) != len(truth):
        raise ValueError("predicted and true groupings differ in length")
    by_pred: dict[object, set[int]] = defaultdict(set)
    by_true: dict[object, set[int]] = defaultdict(set)
    for i, (p, t) in enumerate(zip(predicted, truth, strict=True)):
        by_pred[p].add(i)
        by_true[t].add(i)
    correct = sum(
        1 for i, (p, t) in enumerate(zip(predicted, truth, strict=True)) if by_pred[p] == by_true[t]
    )
    return correct / len(truth) if truth else 0.0


def drain_groups(lines: Sequence[str], **settings: float) -> list[int]:
    parser = Drain(**settings)  # type: ignore[arg-type]
    return [parser.add(line).group_id for line in lines]
