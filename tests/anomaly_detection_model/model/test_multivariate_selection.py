"""The label-free rule that chooses the multivariate detector's settings, and the settings it
chooses among (hold, in-subspace distance, fast attack)."""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from anomaly_detection_model.detectors.multivariate import SELECTED, LaggedReconstruction
from anomaly_detection_model.evaluation.events import runs
from anomaly_detection_model.evaluation.multivariate import DataError, entities
from anomaly_detection_model.evaluation.multivariate_selection import (
    FITTED,
    HOLDOUT,
    LAGGED_GRID,
    ROWS_PER_SEGMENT,
    LaggedSetting,
    held_out_cases,
    inject,
    select,
    training_arrays,
)


class RandomScores:
    """A detector that knows nothing: uniform noise, whatever the rows."""

    def __init__(self) -> None:
        self._rng = np.random.default_rng(7)

    def fit(self, train: object) -> RandomScores:
        return self

    def score(self, rows: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        return self._rng.random(len(rows))


CANDIDATES = {
    "random": RandomScores,
    "lagged": LaggedSetting(2, 0.5, 0.9, False).make,
    "lagged, with T2": LaggedSetting(2, 0.5, 0.9, True).make,
}


def _relabelled_copy(source: Path, target: Path, mode: str) -> Path:
    """A copy of the entities whose test labels are shuffled, or removed with the test half."""
    target.mkdir()
    rng = np.random.default_rng(3)
    for path in sorted(source.glob("*.npz")):
        with np.load(path) as data:
            arrays = {k: data[k] for k in data.files}
        if mode == "shuffled":
            arrays["test_label"] = rng.permutation(arrays["test_label"])
        else:
            arrays = {"train": arrays["train"]}
        np.savez(target / path.name, **arrays)
    return target


def test_the_rule_never_reads_test_halves_or_labels(npz_folder: Path, tmp_path: Path) -> None:
    picks = []
    for mode in ("original", "shuffled", "removed"):
        folder = (
            npz_folder
            if mode == "original"
            else _relabelled_copy(npz_folder, tmp_path / mode, mode)
        )
        cases = held_out_cases({"hosts": training_arrays(folder)})
        selection = select(CANDIDATES, cases)
        picks.append((selection.best().name, [round(s.criterion, 12) for s in selection.scores]))
    assert picks[0] == picks[1] == picks[2]
    # and it prefers a detector to noise
    assert picks[0][0] != "random"


def test_the_rule_tells_a_detector_from_noise(npz_folder: Path) -> None:
    cases = held_out_cases({"hosts": training_arrays(npz_folder)})
    scores = {s.name: s for s in select(CANDIDATES, cases).scores}
    assert scores["lagged"].criterion > scores["random"].criterion + 0.2
    caught = scores["lagged"].by_group["hosts"].event_recall
    assert caught >= 0.5 > scores["random"].by_group["hosts"].event_recall


def test_injection_changes_only_labelled_rows_in_separate_segments() -> None:
    rng = np.random.default_rng(0)
    head = rng.standard_normal((3000, 6))
    head[:, 5] = 1.0  # a constant metric is never chosen: it has no spread to measure in
    tail = rng.standard_normal((2000, 6))
    tail[:, 5] = 1.0
    data, labels = inject(head, tail, np.random.default_rng(1))
    segments = runs(labels)
    assert len(segments) == len(tail) // ROWS_PER_SEGMENT
    assert all(b[0] - a[1] > 0 for a, b in itertools.pairwise(segments))
    unchanged = labels == 0
    np.testing.assert_array_equal(data[unchanged], tail[unchanged])
    np.testing.assert_array_equal(data[:, 5], tail[:, 5])
    # Most segments change something (a frozen or swapped metric may happen to match).
    changed = [bool((data[s:e] != tail[s:e]).any()) for s, e in segments]
    assert sum(changed) >= len(segments) - 1


def test_the_same_training_data_gives_the_same_cases(npz_folder: Path) -> None:
    trains = {"hosts": training_arrays(npz_folder)}
    first, second = held_out_cases(trains), held_out_cases(trains)
    assert [c.labels.tolist() for c in first] == [c.labels.tolist() for c in second]
    assert len(first) == 2 * 3  # two entities, three injection seeds


def test_held_out_part_lies_a_gap_after_the_fitted_part() -> None:
    train = np.arange(4000.0)[:, None] * np.ones((1, 3))
    train[:, 2] = np.sin(np.arange(4000.0))  # one more moving column, not a copy of the others
    case = held_out_cases({"g": {"e": train}}, seeds=(0,))[0]
    assert len(case.head) == int(4000 * FITTED)
    np.testing.assert_array_equal(case.head, train[: len(case.head)])
    # Rows the injection left alone are the last quarter, untouched: nothing in between is used.
    untouched = case.labels == 0
    tail = train[int(4000 * (1 - HOLDOUT)) :]
    np.testing.assert_array_equal(case.tail[untouched], tail[untouched])
    assert int(4000 * (1 - HOLDOUT)) - len(case.head) >= 4000 // 2  # the gap: half of train


def test_training_arrays_needs_train(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"no \.npz"):
        training_arrays(tmp_path)
    np.savez(tmp_path / "x.npz", test=np.zeros((5, 2)))
    with pytest.raises(DataError, match="'train'"):
        training_arrays(tmp_path)


def test_grid_holds_the_shipped_default() -> None:
    params = LaggedReconstruction(**SELECTED).get_params()
    shipped = LaggedSetting(**{k: params[k] for k in LaggedSetting.__dataclass_fields__})
    assert shipped in LAGGED_GRID
    assert len(set(LAGGED_GRID)) == len(LAGGED_GRID)


@pytest.mark.parametrize(
    ("hold", "in_subspace", "fast_attack"),
    [(1, True, False), (5, False, False), (3, True, False), (1, False, True), (3, True, True)],
)
def test_settings_keep_batch_equal_to_streaming(
    npz_folder: Path, hold: int, in_subspace: bool, fast_attack: bool
) -> None:
    entity = next(entities(npz_folder))
    params = {"hold": hold, "in_subspace": in_subspace, "fast_attack": fast_attack}
    batch = LaggedReconstruction(**params).fit(entity.train)
    stream = LaggedReconstruction(**params).fit(entity.train)
    other = LaggedReconstruction(**params).fit(entity.train)
    state = other.new_stream()
    scores = np.concatenate([batch.score(entity.test[:150]), batch.score(entity.test[150:400])])
    one_by_one = [stream.score_then_learn(x) for x in entity.test[:400]]
    in_stream = [other.score_in(x, state, learn=True) for x in entity.test[:400]]
    np.testing.assert_allclose(scores, one_by_one, atol=1e-12)
    np.testing.assert_allclose(scores, in_stream, atol=1e-12)


def test_hold_keeps_the_highest_recent_score(npz_folder: Path) -> None:
    entity = next(entities(npz_folder))
    plain = LaggedReconstruction().fit(entity.train).score(entity.test)
    held = LaggedReconstruction(hold=4).fit(entity.train).score(entity.test)
    for i in range(3, len(plain)):
        assert held[i] == pytest.approx(max(plain[i - 3 : i + 1]))


def test_fast_attack_shows_a_short_incident_at_once_and_lets_it_go_slowly() -> None:
    rng = np.random.default_rng(4)
    load = rng.standard_normal(3000)
    train = np.column_stack([load, 2 * load, -load]) + 0.05 * rng.standard_normal((3000, 3))
    test = train[:300].copy()
    test[100, 1] += 0.7  # one row where one metric leaves the others
    smoothed = LaggedReconstruction(lags=1, smoothing=0.3).fit(train).score(test)
    fast = LaggedReconstruction(lags=1, smoothing=0.3, fast_attack=True).fit(train).score(test)
    # Each score is relative to its own training level (0.5): on the incident's first row the
    # EWMA has climbed only part of the way, the fast attack the whole way.
    assert fast[100] > smoothed[100] + 0.1
    assert fast[100] > 0.8
    # Then it decays as the EWMA does: one alarm run from the incident's row on, not a blip.
    alarm = runs(fast[90:130] > 0.5)
    assert len(alarm) == 1 and alarm[0][0] == 10 and alarm[0][1] - alarm[0][0] >= 3


def test_bad_hold_is_refused() -> None:
    with pytest.raises(ValueError, match="hold"):
        LaggedReconstruction(hold=0)


def test_a_setting_round_trips_through_the_artefact_format(npz_folder: Path) -> None:
    entity = next(entities(npz_folder))
    detector = LaggedReconstruction(hold=3, in_subspace=True).fit(entity.train)
    clone = LaggedReconstruction.from_dict(detector.to_dict())
    np.testing.assert_allclose(clone.score(entity.test[:300]), detector.score(entity.test[:300]))


def test_folder_copy_without_test_is_still_readable(npz_folder: Path, tmp_path: Path) -> None:
    folder = _relabelled_copy(npz_folder, tmp_path / "bare", "removed")
    arrays = training_arrays(folder)
    assert sorted(arrays) == sorted(p.stem for p in npz_folder.glob("*.npz"))
    shutil.rmtree(folder)


def test_in_subspace_distance_sees_a_surge_along_the_normal_correlation() -> None:
    rng = np.random.default_rng(9)
    load = rng.standard_normal(3000)
    train = np.column_stack([load, 2 * load, -load]) + 0.05 * rng.standard_normal((3000, 3))
    test = train[:400].copy()
    test[200:230] *= 0  # quiet, then a surge: everything moves together, five times too far
    test[200:230] += 5 * np.array([1.0, 2.0, -1.0])
    plain = LaggedReconstruction(lags=1).fit(train).score(test)
    with_t2 = LaggedReconstruction(lags=1, in_subspace=True).fit(train).score(test)
    assert plain[200:230].max() < 0.5  # reconstruction alone: the mix is perfectly normal
    assert with_t2[200:230].min() > 0.5
