"""The streaming univariate detector on synthetic series and on two NAB files."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import pytest

from anomaly_detection_model.detectors import univariate_kernel
from anomaly_detection_model.detectors.catalogue import get
from anomaly_detection_model.detectors.univariate import RecordDetector
from anomaly_detection_model.nab.corpus import load_corpus
from anomaly_detection_model.nab.evaluation import run_detector, score_corpus
from anomaly_detection_model.nab.scoring import NAB_PROFILES

THRESHOLD = get("univariate").threshold


def seasonal(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return 50 + 10 * np.sin(2 * np.pi * t / 100) + rng.normal(0, 1, n)


def alarms(xs: np.ndarray, start: int = 300) -> np.ndarray:
    scores = RecordDetector().score(xs)
    return np.flatnonzero(scores[start:] >= THRESHOLD) + start


def test_a_spike_above_everything_seen_is_flagged_where_it_happens() -> None:
    xs = seasonal(2000)
    xs[1500] += 40
    assert 1500 in alarms(xs)
    assert len(alarms(xs)) <= 3


def test_a_level_drop_is_flagged_soon_after_it_starts() -> None:
    xs = seasonal(2000)
    xs[1500:] -= 25
    found = alarms(xs, start=1000)
    assert found.size and 1500 <= found[0] < 1520


def test_a_value_lingering_where_it_only_ever_passed_through_is_flagged() -> None:
    rng = np.random.default_rng(3)
    t = np.arange(3000)
    xs = np.where((t // 50) % 2 == 0, 20.0, 80.0) + rng.normal(0, 1, t.size)
    xs[(t % 50) == 0] = 50.0  # each switch passes through the middle for one step
    xs[2010:2060] = 50.0 + rng.normal(0, 1, 50)  # then the series stays there
    found = alarms(xs, start=1000)
    assert np.any((found >= 2010) & (found < 2030))


def test_two_steps_in_a_band_only_ever_crossed_in_one_are_not_a_record() -> None:
    # A band whose longest run is one step gives no run history to compare with.
    t = np.arange(3000)
    xs = np.where((t // 50) % 2 == 0, 20.0, 80.0)
    xs[(t % 50) == 0] = 52.0  # each switch crosses the middle band in one step
    xs[2010:2012] = 52.0
    scores = RecordDetector(refractory=0).score(xs)
    assert scores[2011] < THRESHOLD


def test_a_jump_inside_the_range_seen_but_out_of_the_local_regime_is_flagged() -> None:
    # A noisy stretch covers 20..80; the series then calms down, and a jump to 65 is no
    # record of the value, its means or the recent window, only of the surprise against
    # the calm regime.
    for seed in range(3):
        rng = np.random.default_rng(seed)
        xs = np.concatenate([50 + rng.normal(0, 10, 2000), 50 + rng.normal(0, 0.5, 1000)])
        xs[2800] += 15
        assert xs[2800] < xs[:2000].max()
        found = alarms(xs, start=2000)
        assert found.tolist() == [2800]


def test_an_excess_too_large_for_a_float_scores_as_the_strongest_evidence() -> None:
    xs = np.where(np.arange(500) % 2 == 1, 1e-170, 0.0)
    xs[300] = 1e200
    scores = RecordDetector().score(xs)
    assert np.isfinite(scores).all()
    assert scores[300] == 1.0


def test_a_quiet_series_raises_nothing_after_it_has_learnt() -> None:
    assert alarms(seasonal(5000, seed=5), start=1500).size <= 2


def test_a_smaller_spike_right_after_a_detection_is_silenced() -> None:
    xs = seasonal(2000)
    xs[1500] += 40
    xs[1510] += 39  # within the refractory period, and lower
    scores = RecordDetector().score(xs)
    assert scores[1500] >= THRESHOLD
    assert scores[1510] == 0.0
    assert RecordDetector(refractory=0).score(xs)[1510] > 0.0


def test_compiled_and_plain_python_kernels_agree() -> None:
    xs = seasonal(3000, seed=9)
    xs[::97] = math.nan
    compiled = RecordDetector().score(
        xs, 300.0 * np.arange(xs.size) + 300.0 * (np.arange(xs.size) >= 2000)
    )
    detector = RecordDetector()
    plain = np.zeros(xs.size)
    times = 300.0 * np.arange(xs.size)
    times[2000:] += 300.0  # one missing row, so the gap evidence runs through both kernels
    univariate_kernel._process(
        *detector._arrays,
        detector._periods,
        xs,
        times,
        plain,
        10,
        200,
        144,
        6,
        0.5,
        10,
        detector.refractory,
        True,
    )
    np.testing.assert_allclose(plain, compiled, rtol=1e-12, atol=1e-12)


def daily(days: int, seed: int, period: int = 288) -> np.ndarray:
    """A square daily rhythm like a working-hours load: high for a third of each day."""
    rng = np.random.default_rng(seed)
    t = np.arange(days * period)
    high = (t % period) < period // 3
    return np.where(high, 80.0, 20.0) + rng.normal(0, 3, t.size)


def test_a_daily_peak_that_does_not_come_is_flagged_only_by_the_seasonal_evidence() -> None:
    for seed in range(3):
        xs = daily(14, seed)
        day = 10 * 288
        xs[day : day + 96] = 20.0 + np.random.default_rng(seed).normal(0, 3, 96)
        scores = RecordDetector().score(xs)
        found = np.flatnonzero(scores[3 * 288 :] >= THRESHOLD) + 3 * 288
        assert np.any((found >= day) & (found < day + 96)), seed
        assert found.size <= 3
        without = RecordDetector(periods=()).score(xs)
        assert not np.any(without[day : day + 96] >= THRESHOLD)


def test_an_unbroken_daily_rhythm_raises_nothing_after_it_has_learnt() -> None:
    for seed in range(3):
        scores = RecordDetector().score(daily(14, seed))
        assert np.count_nonzero(scores[3 * 288 :] >= THRESHOLD) <= 1


@pytest.mark.parametrize(
    "params",
    [
        {"mean_window": 0},
        {"rise_window": 0},
        {"bins": 0},
        {"horizon": 0.0},
        {"refractory": -1},
        {"periods": (1,)},
    ],
)
def test_invalid_hyperparameters_are_refused(params: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        RecordDetector(**params)  # type: ignore[arg-type]


def test_two_nab_files_score_well_above_the_null_detector(nab_root: Path, tmp_path: Path) -> None:
    for key in (
        "realAWSCloudwatch/ec2_cpu_utilization_825cc2.csv",
        "realAdExchange/exchange-3_cpc_results.csv",
    ):
        target = tmp_path / "data" / key
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(nab_root / "data" / key, target)
    files = load_corpus(tmp_path / "data", nab_root / "labels" / "combined_windows.json")
    scores = run_detector(files, RecordDetector)
    report = score_corpus("univariate", files, scores, NAB_PROFILES, THRESHOLD)
    standard = report.fixed[0].total
    assert standard.tp >= 3
    assert standard.score > 50


def every_five_minutes(n: int, missing: list[int]) -> np.ndarray:
    """Row times in seconds, 300 apart, with one row dropped before each index in `missing`."""
    steps = np.full(n, 300.0)
    steps[missing] = 600.0
    return np.cumsum(steps)


def test_a_rare_missing_row_is_flagged_only_when_the_times_are_given() -> None:
    for seed in range(3):
        xs = seasonal(3000, seed)
        times = every_five_minutes(3000, [2400])
        found = np.flatnonzero(RecordDetector().score(xs, times)[300:] >= THRESHOLD) + 300
        assert 2400 in found, seed
        assert 2400 not in alarms(xs)


def test_missing_rows_in_a_feed_that_often_skips_them_raise_nothing() -> None:
    rng = np.random.default_rng(4)
    missing = sorted(int(i) for i in rng.choice(np.arange(20, 3000), size=150, replace=False))
    xs = seasonal(3000, seed=4)
    timed = RecordDetector().score(xs, every_five_minutes(3000, missing))
    untimed = RecordDetector().score(xs)
    late = [i for i in missing if i >= 1000]
    assert not np.any(timed[late] >= THRESHOLD)
    np.testing.assert_array_equal(timed[1000:] >= THRESHOLD, untimed[1000:] >= THRESHOLD)


def test_timed_batch_and_timed_streaming_agree() -> None:
    xs = seasonal(1500, seed=6)
    xs[::53] = math.nan
    times = every_five_minutes(1500, [700, 1200])
    batch = RecordDetector().score(xs, times)
    stream = RecordDetector()
    one_by_one = [
        stream.score_then_learn(float(x), float(t)) for x, t in zip(xs, times, strict=True)
    ]
    np.testing.assert_array_equal(batch, np.array(one_by_one))
    probe = RecordDetector().fit(xs[:700], times[:700])
    assert probe.score_one(float(xs[700]), float(times[700])) == batch[700]


def test_row_times_of_the_wrong_length_are_refused() -> None:
    with pytest.raises(ValueError, match="times"):
        RecordDetector().score([1.0, 2.0, 3.0], [0.0, 300.0])


def test_a_slow_climb_of_the_half_day_mean_ranks_just_under_the_fixed_threshold() -> None:
    # Noise that once spiked high, then a slow climb that stays inside the value's range: no
    # record but the half-day mean's, which is weak evidence, scored just under the fixed
    # threshold (no alarm at it), once per climb (the refractory period holds it).
    assert univariate_kernel.RISE_SCORE < THRESHOLD
    for seed in range(3):
        rng = np.random.default_rng(seed)
        xs = 50 + rng.normal(0, 3, 3000)
        xs[400] = 90.0
        xs[2000:2600] += np.linspace(0.0, 8.0, 600)
        xs[2600:] += 8.0
        climb = RecordDetector().score(xs)[2000:2600]
        assert np.count_nonzero(climb == univariate_kernel.RISE_SCORE) == 1, seed
        flat = RecordDetector(rise_window=100_000).score(xs)[2000:2600]
        assert not np.any(flat == univariate_kernel.RISE_SCORE), seed
