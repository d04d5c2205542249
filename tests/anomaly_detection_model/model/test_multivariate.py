"""The multivariate detector and the event metrics it is judged by."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

from anomaly_detection_model.detectors.multivariate import LaggedReconstruction
from anomaly_detection_model.evaluation.events import evaluate, macro_average, runs
from anomaly_detection_model.evaluation.multivariate import (
    DataError,
    entities,
    evaluate_entity,
    evaluate_folder,
)


def test_runs_of_consecutive_flags() -> None:
    assert runs([0, 1, 1, 0, 1, 0, 0, 1]) == [(1, 3), (4, 5), (7, 8)]
    assert runs([]) == []


def test_event_metrics_by_hand() -> None:
    labels = [0, 1, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0]
    alerts = [0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 1, 1]
    m = evaluate(labels, alerts)
    # One of two segments caught (first alert one step after its start); one of three alarms true.
    assert (m.segments, m.alarms) == (2, 3)
    assert m.event_recall == pytest.approx(0.5)
    assert m.event_precision == pytest.approx(1 / 3)
    assert m.event_f1 == pytest.approx(0.4)
    assert m.mean_delay == pytest.approx(1.0)
    # Points: 1 true positive of 4 alerts and 5 anomalous points.
    assert m.point_precision == pytest.approx(0.25)
    assert m.point_recall == pytest.approx(0.2)
    # Point-adjusted: the caught segment counts whole (3 points), alerts become 3 + 3 others.
    assert m.point_adjusted_f1 == pytest.approx(2 * 0.5 * 0.6 / 1.1)


def test_macro_event_f1_is_harmonic_mean_of_macro_recall_and_precision() -> None:
    a = evaluate([1, 1, 0, 0], [1, 0, 0, 0])
    b = evaluate([1, 0, 1, 0], [0, 0, 0, 1])
    macro = macro_average([a, b])
    assert macro.event_recall == pytest.approx(0.5)
    assert macro.event_precision == pytest.approx(0.5)
    assert macro.event_f1 == pytest.approx(0.5)


def test_batch_scores_equal_streaming_scores(npz_folder: Path) -> None:
    entity = next(entities(npz_folder))
    batch = LaggedReconstruction().fit(entity.train)
    stream = LaggedReconstruction().fit(entity.train)
    first = batch.score(entity.test[:200])
    rest = batch.score(entity.test[200:260])
    one_by_one = np.array([stream.score_then_learn(x) for x in entity.test[:260]])
    np.testing.assert_allclose(np.concatenate([first, rest]), one_by_one, atol=1e-12)
    assert ((one_by_one >= 0) & (one_by_one <= 1)).all()


def test_missing_values_constant_columns_and_pickling(npz_folder: Path) -> None:
    entity = next(entities(npz_folder))
    train = entity.train.copy()
    train[:, 3] = 5.0  # a constant metric
    detector = LaggedReconstruction().fit(train)
    row = entity.test[10].copy()
    row[0] = np.nan
    assert 0 <= detector.score_one(row) <= 1
    clone = pickle.loads(pickle.dumps(detector))
    assert clone.score_one(entity.test[11]) == detector.score_one(entity.test[11])


def test_streaming_without_fit_warms_up_then_scores() -> None:
    rng = np.random.default_rng(0)
    detector = LaggedReconstruction(warmup=50)
    scores = [detector.score_then_learn(rng.standard_normal(3)) for _ in range(80)]
    assert scores[:50] == [0.0] * 50
    assert any(s > 0 for s in scores[50:])


def test_catches_every_broken_correlation_with_fewer_false_alarms_than_pca(
    npz_folder: Path,
) -> None:
    selected = evaluate_folder(npz_folder, "lagged_reconstruction")[1]
    default = macro_average(
        [evaluate_entity(e, LaggedReconstruction).metrics for e in entities(npz_folder)]
    )
    pca = evaluate_folder(npz_folder, "pca_reconstruction")[1]
    assert selected.event_recall == default.event_recall == 1.0
    # The entity model's setting (the constructor's defaults) raises fewer alarm runs than PCA
    # here. The evaluation's pick has a fast attack, which takes white noise's rare peaks whole:
    # on this noise-only toy it raises a few more short runs, so no such claim is made for it.
    assert default.event_f1 >= pca.event_f1


def test_folder_errors_name_the_problem(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"no \.npz"):
        evaluate_folder(tmp_path, "lagged_reconstruction")
    np.savez(tmp_path / "x.npz", train=np.zeros((5, 2)), test=np.zeros((5, 2)))
    with pytest.raises(DataError, match="test_label"):
        evaluate_folder(tmp_path, "lagged_reconstruction")
    with pytest.raises(DataError, match="unknown multivariate detector"):
        evaluate_folder(tmp_path, "nope")
