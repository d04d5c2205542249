"""Evaluate multivariate detectors on `.npz` entities (`train`, `test`, `test_label`).

For each entity: fit on `train`, take the threshold as a high quantile of the detector's
scores on `train` (training data only), score `test`, compare with `test_label`. Works on any
folder of such files, including entities never seen before; results are per entity and
macro-averaged.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from anomaly_detection_model.evaluation.events import EventMetrics, evaluate, macro_average

DEFAULT_QUANTILE = 0.995


class BatchDetector(Protocol):
    def fit(self, train: Any) -> Any: ...

    def score(self, rows: Any) -> npt.NDArray[np.float64]: ...


def _lagged() -> BatchDetector:
    from anomaly_detection_model.detectors.multivariate import SELECTED, LaggedReconstruction

    # The setting the label-free rule picked (evaluation.multivariate_selection).
    return LaggedReconstruction(**SELECTED)


def _pca() -> BatchDetector:
    from anomaly_detection_model.detectors.multivariate_baselines import PcaReconstruction

    return PcaReconstruction()


def _iforest() -> BatchDetector:
    from anomaly_detection_model.detectors.multivariate_baselines import IsolationForest

    return IsolationForest()


MULTIVARIATE_DETECTORS: dict[str, Callable[[], BatchDetector]] = {
    "lagged_reconstruction": _lagged,
    "pca_reconstruction": _pca,
    "iforest": _iforest,
}
BASELINES = ("pca_reconstruction", "iforest")


class DataError(ValueError):
    """A data folder or file cannot be evaluated; the message says which and why."""


@dataclass(frozen=True)
class EntityResult:
    entity: str
    metrics: EventMetrics
    threshold: float
    seconds: float


@dataclass(frozen=True)
class Entity:
    name: str
    train: npt.NDArray[np.float64]
    test: npt.NDArray[np.float64]
    labels: npt.NDArray[np.int8]


def entities(folder: Path) -> Iterator[Entity]:
    """Every `.npz` entity of a folder, checked for the three arrays and matching shapes."""
    if not folder.is_dir():
        raise DataError(f"--data: {folder} is not a folder")
    files = sorted(folder.glob("*.npz"))
    if not files:
        raise DataError(f"--data: {folder} holds no .npz files")
    for path in files:
        try:
            with np.load(path, allow_pickle=False) as data:
                missing = {"train", "test", "test_label"} - set(data.files)
                if missing:
                    raise DataError(f"{path.name}: missing arrays {sorted(missing)}")
                train = np.asarray(data["train"], dtype=np.float64)
                test = np.asarray(data["test"], dtype=np.float64)
                labels = np.asarray(data["test_label"], dtype=np.int8).reshape(-1)
        except (OSError, ValueError) as exc:
            if isinstance(exc, DataError):
                raise
            raise DataError(f"{path.name}: cannot be read as .npz ({exc})") from exc
        if train.ndim != 2 or test.ndim != 2 or train.shape[1] != test.shape[1]:
            raise DataError(f"{path.name}: train and test must be 2-D with the same columns")
        if len(labels) != len(test):
            raise DataError(f"{path.name}: test_label has {len(labels)} rows, test {len(test)}")
        yield Entity(path.stem, train, test, labels)


def evaluate_entity(
    entity: Entity, make: Callable[[], BatchDetector], quantile: float = DEFAULT_QUANTILE
) -> EntityResult:
    """Fit on train, threshold from train scores, evaluate on test."""
    started = time.perf_counter()
    threshold = float(np.quantile(make().fit(entity.train).score(entity.train), quantile))
    scores = make().fit(entity.train).score(entity.test)
    metrics = evaluate(entity.labels, scores > threshold)
    return EntityResult(entity.name, metrics, threshold, time.perf_counter() - started)


def evaluate_folder(
    folder: Path,
    detector: str,
    quantile: float = DEFAULT_QUANTILE,
    progress: Callable[[str], None] | None = None,
) -> tuple[list[EntityResult], EventMetrics]:
    """Per-entity results and their macro average for one detector over a folder."""
    if detector not in MULTIVARIATE_DETECTORS:
        known = ", ".join(sorted(MULTIVARIATE_DETECTORS))
        raise DataError(f"--detector: unknown multivariate detector {detector!r}; known: {known}")
    make = MULTIVARIATE_DETECTORS[detector]
    results: list[EntityResult] = []
    for entity in entities(folder):
        if progress:
            progress(entity.name)
        results.append(evaluate_entity(entity, make, quantile))
    return results, macro_average([r.metrics for r in results])


def report(results: list[EntityResult], macro: EventMetrics, detector: str) -> dict[str, Any]:
    """The JSON form of one detector's results."""
    from anomaly_detection_model.detectors.multivariate import SELECTED

    settings = dict(SELECTED) if detector == "lagged_reconstruction" else {}
    return {
        "detector": detector,
        "settings": settings,
        "settings_rule": "label-free: last quarter of train, after a gap, with injected anomalies "
        "(evaluation.multivariate_selection)"
        if settings
        else "library defaults",
        "threshold_rule": f"quantile {DEFAULT_QUANTILE} of training scores",
        "macro": macro.as_dict(),
        "entities": {
            r.entity: {**r.metrics.as_dict(), "threshold": r.threshold, "seconds": r.seconds}
            for r in results
        },
    }
