"""NAB's scoring rules on hand-worked cases, one rule per test."""

from __future__ import annotations

import math

import numpy as np
import pytest

from anomaly_detection_model.nab.scoring import (
    NAB_PROFILES,
    CostProfile,
    normalised,
    perfect_score,
    probation_length,
    scaled_sigmoid,
    score_file,
    sweep_file,
    threshold_curve,
)

STANDARD, LOW_FP, LOW_FN = NAB_PROFILES
ROWS = 100
WINDOW = (40, 49)  # ten rows; probation is the first 15 rows
MAX_TP = 2 / (1 + math.exp(-5)) - 1  # 0.98661, the sigmoid at a window's first row


def detections(*rows: int) -> np.ndarray:
    scores = np.zeros(ROWS)
    scores[list(rows)] = 1.0
    return scores


def raw(*rows: int, profile: CostProfile = STANDARD) -> float:
    return score_file(sweep_file(ROWS, [WINDOW], profile), detections(*rows), 0.5).raw


def test_scaled_sigmoid_at_its_landmarks() -> None:
    assert scaled_sigmoid(-1.0) == pytest.approx(0.98661, abs=1e-5)
    assert scaled_sigmoid(-0.5) == pytest.approx(0.84828, abs=1e-5)
    assert scaled_sigmoid(0.0) == 0.0
    assert scaled_sigmoid(1.0) == pytest.approx(-0.98661, abs=1e-5)
    assert scaled_sigmoid(3.0) == -1.0


def test_probation_is_fifteen_percent_capped_at_750_rows() -> None:
    assert probation_length(100) == 15
    assert probation_length(4032) == 604
    assert probation_length(10_000) == 750


def test_detection_at_window_start_earns_exactly_the_tp_weight() -> None:
    assert raw(40) == pytest.approx(1.0)


def test_only_the_first_detection_in_a_window_counts() -> None:
    # Row 42: relative position -(49 - 42 + 1) / 10 = -0.8.
    expected = (2 / (1 + math.exp(5 * -0.8)) - 1) / MAX_TP
    assert raw(42) == pytest.approx(expected)
    assert raw(42, 45, 47, 49) == pytest.approx(expected)


def test_an_early_detection_beats_a_late_one() -> None:
    late = (2 / (1 + math.exp(5 * -0.1)) - 1) / MAX_TP  # row 49, the window's last row
    assert raw(49) == pytest.approx(late)
    assert raw(40) > raw(45) > raw(49) > 0


def test_a_missed_window_costs_the_fn_weight() -> None:
    assert raw() == -1.0
    assert raw(profile=LOW_FN) == -2.0


def test_false_positive_far_from_a_window_costs_the_full_fp_weight() -> None:
    # Row 90 is (90 - 49) / 9 = 4.6 window widths after the window: sigmoid -1.
    assert raw(40, 90) == pytest.approx(1.0 - 0.11)
    assert raw(40, 90, profile=LOW_FP) == pytest.approx(1.0 - 0.22)


def test_false_positive_just_after_a_window_costs_less() -> None:
    position = 1 / 9  # row 50, one row after the window's end, in widths (10 - 1)
    expected = 1.0 + 0.11 * (2 / (1 + math.exp(5 * position)) - 1)
    assert raw(40, 50) == pytest.approx(expected)
    assert raw(40, 50) > raw(40, 90)


def test_false_positive_before_any_window_costs_the_full_fp_weight() -> None:
    assert raw(40, 20) == pytest.approx(1.0 - 0.11)


def test_every_false_positive_counts() -> None:
    assert raw(40, 20, 21, 22) == pytest.approx(1.0 - 3 * 0.11)


def test_detections_in_the_probationary_period_are_not_scored() -> None:
    assert raw(3, 10, 14) == -1.0


def test_null_and_perfect_detectors_normalise_to_0_and_100() -> None:
    sweeps = [sweep_file(ROWS, [WINDOW], p) for p in NAB_PROFILES]
    for profile, sweep in zip(NAB_PROFILES, sweeps, strict=True):
        null = sweep.null_score
        perfect = perfect_score([sweep], profile)
        assert null == -profile.fn_weight
        assert perfect == profile.tp_weight
        assert normalised(score_file(sweep, detections(), 0.5).raw, null, perfect) == 0.0
        assert normalised(
            score_file(sweep, detections(40), 0.5).raw, null, perfect
        ) == pytest.approx(100.0)
        assert normalised(0.0, null, perfect) == pytest.approx(
            100 * profile.fn_weight / (1 + profile.fn_weight)
        )


def test_tally_counts_windows_and_false_positive_rows() -> None:
    tally = score_file(sweep_file(ROWS, [WINDOW, (70, 79)], STANDARD), detections(45, 60, 61), 0.5)
    assert (tally.tp, tally.fn, tally.fp) == (1, 1, 2)


def test_threshold_sweep_agrees_with_direct_scoring_and_finds_the_best() -> None:
    rng = np.random.default_rng(7)
    files = [(300, [(100, 129), (200, 229)]), (200, [(150, 169)]), (120, [])]
    runs = []
    for rows, windows in files:
        scores = np.round(rng.random(rows), 2)  # ties on purpose
        runs.append((sweep_file(rows, windows, STANDARD), scores))
    curve = threshold_curve(runs)
    for threshold, total in zip(curve.thresholds, curve.raw, strict=True):
        direct = sum(score_file(s, scores, threshold).raw for s, scores in runs)
        assert total == pytest.approx(direct)
    best_threshold, best_raw = curve.best()
    grid = np.linspace(0, 1.01, 203)
    assert best_raw >= max(sum(score_file(s, x, t).raw for s, x in runs) for t in grid) - 1e-9
    assert best_raw == pytest.approx(sum(score_file(s, x, best_threshold).raw for s, x in runs))
