"""Range novelty: the multivariate detector's evidence for moves beyond the training range."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from anomaly_detection_model.detectors.multivariate import LaggedReconstruction
from anomaly_detection_model.detectors.multivariate_range import MIN_NORMALISER, RangeNovelty
from anomaly_detection_model.evaluation.multivariate import entities


def _correlated(n: int, seed: int) -> np.ndarray:
    """Three metrics driven by one load, as CPU, requests and network are."""
    rng = np.random.default_rng(seed)
    load = rng.standard_normal(n)
    return np.column_stack([load, 2 * load, -load]) + 0.05 * rng.standard_normal((n, 3))


def test_excess_is_zero_inside_the_band_and_counts_the_kth_metric_outside() -> None:
    z = np.array([[0.0, 0.0, 0.0], [5.0, 0.0, 0.0], [5.0, -4.0, 0.5], [1.0, 1.0, 1.0]])
    band = RangeNovelty(low=np.full(3, -1.0), high=np.full(3, 1.0), metrics=1)
    np.testing.assert_allclose(band.excess(z), [0.0, 4.0, 4.0, 0.0])
    band.metrics = 2  # two metrics must be outside together
    np.testing.assert_allclose(band.excess(z), [0.0, 0.0, 3.0, 0.0])


def test_the_band_leaves_out_the_training_tails() -> None:
    z = np.zeros((1000, 1))
    z[:1, 0] = 50.0  # one excursion in training must not stretch the range over itself
    z[1:] = np.linspace(-1, 1, 999)[:, None]
    band = RangeNovelty.fit(z, 0.99)
    assert band.high[0] < 1.0 < 50.0
    assert RangeNovelty.fit(z, 1.0).high[0] == 50.0


def test_range_novelty_sees_a_surge_past_the_training_range() -> None:
    train = _correlated(3000, 9)
    test = _correlated(400, 10)
    # A surge: every metric moves as it always does, but twice as far as training ever went.
    test[200:230] = 2 * np.abs(train[:, 0]).max() * np.array([1.0, 2.0, -1.0])
    plain = LaggedReconstruction(lags=1).fit(train)
    ranged = LaggedReconstruction(lags=1, range_quantile=0.999, range_metrics=2).fit(train)
    plain_scores, ranged_scores = plain.score(test), ranged.score(test)
    assert plain_scores[200:230].max() < 0.5  # reconstruction alone: the mix is normal
    assert ranged_scores[200:230].min() > ranged.threshold_
    # Away from the surge the extra evidence raises no alarm of its own.
    quiet = np.r_[0:200, 260:400]
    assert (ranged_scores[quiet] > ranged.threshold_).mean() < 0.02


def test_range_off_by_default_and_the_normaliser_has_a_floor() -> None:
    train = _correlated(2000, 1)
    assert LaggedReconstruction().fit(train).to_dict()["range"] is None
    fitted = LaggedReconstruction(range_quantile=1.0).fit(train)
    # With the full training range, novelty is 0 on every training row: the floor applies.
    assert fitted.to_dict()["range"]["normaliser"] == MIN_NORMALISER


@pytest.mark.parametrize(
    ("in_subspace", "fast_attack", "hold"), [(False, False, 1), (True, True, 3)]
)
def test_range_novelty_keeps_batch_equal_to_streaming_and_round_trips(
    npz_folder: Path, in_subspace: bool, fast_attack: bool, hold: int
) -> None:
    entity = next(entities(npz_folder))
    params = {
        "lags": 2,
        "in_subspace": in_subspace,
        "fast_attack": fast_attack,
        "hold": hold,
        "range_quantile": 0.99,
        "range_metrics": 2,
    }
    batch = LaggedReconstruction(**params).fit(entity.train)
    stream = LaggedReconstruction(**params).fit(entity.train)
    other = LaggedReconstruction(**params).fit(entity.train)
    clone = LaggedReconstruction.from_dict(batch.to_dict())
    state = other.new_stream()
    rows = entity.test[:400]
    scores = np.concatenate([batch.score(rows[:150]), batch.score(rows[150:])])
    np.testing.assert_allclose(scores, [stream.score_then_learn(x) for x in rows], atol=1e-12)
    np.testing.assert_allclose(scores, [other.score_in(x, state, learn=True) for x in rows])
    np.testing.assert_allclose(clone.score(rows), scores, atol=1e-12)


@pytest.mark.parametrize(
    ("params", "field"),
    [({"range_quantile": 0.4}, "range_quantile"), ({"range_metrics": 0}, "range_metrics")],
)
def test_bad_range_settings_are_refused(params: dict[str, Any], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        LaggedReconstruction(**params)
