"""Checks that hold for every detector: determinism with a seed, no look-ahead, bounded
memory over a long stream, missing values and constant series handled, scores in [0, 1],
batch scoring equal to streaming, and a pickle round trip that changes nothing.

Each check takes a catalogue entry and raises AssertionError with the reason when the
detector fails it.
"""

from __future__ import annotations

import math
import pickle
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from anomaly_detection_model.detectors.catalogue import CatalogueEntry

STREAM = 1500  # observations in an ordinary check stream
LONG_STREAM = 12_000  # observations in the bounded-memory check
SEED = 11


@dataclass(frozen=True)
class Check:
    """A named property of detectors."""

    name: str
    run: Callable[[CatalogueEntry], None]


def _prequential(entry: CatalogueEntry, xs: Sequence[Any]) -> npt.NDArray[np.float64]:
    return np.asarray(entry.make().score(xs), dtype=np.float64)


def _same(a: npt.NDArray[np.float64], b: npt.NDArray[np.float64]) -> bool:
    return bool(np.array_equal(a, b, equal_nan=True))


def check_scores_in_unit_interval(entry: CatalogueEntry) -> None:
    scores = _prequential(entry, entry.sample(STREAM, SEED))
    assert scores.shape == (STREAM,), (
        f"one score per observation expected, got shape {scores.shape}"
    )
    assert np.all(np.isfinite(scores)), "scores must be finite"
    assert np.all((scores >= 0.0) & (scores <= 1.0)), (
        f"scores outside [0, 1]: {scores.min()}..{scores.max()}"
    )


def check_deterministic(entry: CatalogueEntry) -> None:
    xs = entry.sample(STREAM, SEED)
    assert _same(_prequential(entry, xs), _prequential(entry, xs)), (
        "two fresh detectors disagree on one stream"
    )


def check_no_look_ahead(entry: CatalogueEntry) -> None:
    xs = entry.sample(STREAM, SEED)
    cut = STREAM // 2
    other_future = entry.sample(STREAM, SEED + 1)[cut:]
    full = _prequential(entry, xs)
    changed = _prequential(entry, list(xs[:cut]) + list(other_future))
    assert _same(full[:cut], changed[:cut]), (
        "scores of the past changed when only the future changed"
    )


def check_batch_equals_streaming(entry: CatalogueEntry) -> None:
    xs = entry.sample(400, SEED)
    detector = entry.make()
    one_by_one = np.array([detector.score_then_learn(x) for x in xs], dtype=np.float64)
    assert _same(one_by_one, _prequential(entry, xs)), (
        "score(xs) differs from score_then_learn one by one"
    )


def check_score_one_does_not_learn(entry: CatalogueEntry) -> None:
    xs = entry.sample(400, SEED)
    detector = entry.make().fit(xs[:300])
    first = [detector.score_one(x) for x in xs[300:]]
    second = [detector.score_one(x) for x in xs[300:]]
    assert first == second, "score_one changed the detector's state"


def check_bounded_memory(entry: CatalogueEntry) -> None:
    xs = entry.sample(LONG_STREAM, SEED)
    detector = entry.make()
    sizes = []
    for start in range(0, LONG_STREAM, LONG_STREAM // 4):
        detector.score(xs[start : start + LONG_STREAM // 4])
        sizes.append(len(pickle.dumps(detector)))
    # After the first quarter, state may still fill fixed buffers, but must stop growing.
    assert sizes[-1] <= sizes[1] * 1.1 + 4096, f"state keeps growing with the stream: {sizes} bytes"


def check_missing_values(entry: CatalogueEntry) -> None:
    xs = list(entry.sample(STREAM, SEED))
    for i in range(100, STREAM, 37):
        xs[i] = entry.missing(xs[i])
    if isinstance(xs[0], float | int):
        for i in range(120, STREAM, 101):
            xs[i] = None
    scores = _prequential(entry, xs)
    assert np.all(np.isfinite(scores)), "missing values produced non-finite scores"
    assert np.all((scores >= 0.0) & (scores <= 1.0)), "missing values pushed scores outside [0, 1]"


def check_constant_series(entry: CatalogueEntry) -> None:
    first = entry.sample(1, SEED)[0]
    scores = _prequential(entry, [first] * STREAM)
    assert np.all(np.isfinite(scores)), "a constant series produced non-finite scores"
    assert np.all((scores >= 0.0) & (scores <= 1.0)), (
        "a constant series pushed scores outside [0, 1]"
    )
    late = scores[STREAM // 2 :]
    assert not np.any(late >= entry.threshold), "a long constant series still raises anomalies"


def check_pickle_round_trip(entry: CatalogueEntry) -> None:
    xs = entry.sample(STREAM, SEED)
    cut = STREAM // 2
    detector = entry.make()
    detector.score(xs[:cut])
    restored = pickle.loads(pickle.dumps(detector))
    assert _same(detector.score(xs[cut:]), restored.score(xs[cut:])), (
        "a pickled copy scores differently"
    )


def check_clone_is_fresh(entry: CatalogueEntry) -> None:
    xs = entry.sample(400, SEED)
    detector = entry.make()
    detector.score(xs)
    clone = detector.clone()
    assert clone.get_params() == detector.get_params(), "clone() changed the hyperparameters"
    assert _same(clone.score(xs), _prequential(entry, xs)), "clone() kept learnt state"


CHECKS: tuple[Check, ...] = tuple(
    Check(function.__name__.removeprefix("check_"), function)
    for function in (
        check_scores_in_unit_interval,
        check_deterministic,
        check_no_look_ahead,
        check_batch_equals_streaming,
        check_score_one_does_not_learn,
        check_bounded_memory,
        check_missing_values,
        check_constant_series,
        check_pickle_round_trip,
        check_clone_is_fresh,
    )
)


def checks_for(entry: CatalogueEntry) -> Iterator[Check]:
    """The checks that apply to one detector (all of them, for now)."""
    del entry
    yield from CHECKS


def is_missing(x: Any) -> bool:
    """True for None or NaN: what `CatalogueEntry.missing` produces for a number."""
    return x is None or (isinstance(x, float) and math.isnan(x))
