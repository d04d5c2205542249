"""The detector protocol, in the style of river: learn one observation, score one observation.

Hyperparameters are exactly the constructor's arguments. Turning a score into yes/no is a
separate `Threshold` object. Batch `fit`/`score` exist for training and evaluation and must
agree with the streaming methods (scoring a batch = scoring its rows one by one, in order).
"""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any, Generic, TypeVar

import numpy as np
import numpy.typing as npt

X = TypeVar("X")  # one observation: float for univariate, Mapping[str, float] or vector otherwise


class Detector(ABC, Generic[X]):
    """An online anomaly detector. Scores are in [0, 1]; higher is more anomalous."""

    @abstractmethod
    def learn_one(self, x: X) -> None:
        """Update the detector's state with one observation."""

    @abstractmethod
    def score_one(self, x: X) -> float:
        """Score one observation against what has been learnt so far (no state change)."""

    def score_then_learn(self, x: X) -> float:
        """Score `x`, then learn it: the prequential order every stream evaluation uses."""
        score = self.score_one(x)
        self.learn_one(x)
        return score

    def fit(self, xs: Sequence[X]) -> Detector[X]:
        """Learn a batch of observations in order."""
        for x in xs:
            self.learn_one(x)
        return self

    def score(self, xs: Sequence[X]) -> npt.NDArray[np.float64]:
        """Score a batch prequentially (score each row, then learn it)."""
        return np.array([self.score_then_learn(x) for x in xs], dtype=np.float64)

    def get_params(self) -> dict[str, Any]:
        """The hyperparameters: exactly the constructor's arguments."""
        names = [
            p
            for p in inspect.signature(type(self).__init__).parameters
            if p not in ("self", "args", "kwargs")
        ]
        return {name: getattr(self, name) for name in names}

    def clone(self) -> Detector[X]:
        """A fresh, untrained detector with the same hyperparameters."""
        return type(self)(**self.get_params())

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({params})"


class Threshold(ABC):
    """Turns a score into a yes/no decision."""

    @abstractmethod
    def is_anomaly(self, score: float) -> bool:
        """True when `score` means an anomaly."""


class ConstantThreshold(Threshold):
    """Anomalous at or above a fixed score."""

    def __init__(self, value: float) -> None:
        self.value = value

    def is_anomaly(self, score: float) -> bool:
        return score >= self.value


class QuantileThreshold(Threshold):
    """Anomalous above a high quantile of scores seen on (normal) training data."""

    def __init__(self, q: float = 0.995) -> None:
        self.q = q
        self.value = float("inf")

    def fit(self, scores: Sequence[float] | npt.NDArray[np.float64]) -> QuantileThreshold:
        finite = np.asarray(scores, dtype=np.float64)
        finite = finite[np.isfinite(finite)]
        self.value = float(np.quantile(finite, self.q)) if finite.size else float("inf")
        return self

    def is_anomaly(self, score: float) -> bool:
        return score > self.value


Features = Mapping[str, float | None]
