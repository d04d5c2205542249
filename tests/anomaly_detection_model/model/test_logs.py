"""Drain parsing, the log detectors and their event-level evaluation."""

from __future__ import annotations

from pathlib import Path

import pytest

from anomaly_detection_model.evaluation.logs import (
    LogDataError,
    drain_groups,
    evaluate_logs,
    grouping_accuracy,
    read_labelled,
)
from anomaly_detection_model.logs.drain import Drain
from anomaly_detection_model.logs.sample import generate


def test_drain_merges_variable_fields_into_wildcards() -> None:
    drain = Drain()
    a = drain.add("GET /api/v1/cart/17 200 35ms")
    b = drain.add("GET /api/v1/cart/4211 200 7ms")
    c = drain.add("connection refused to 10.0.3.4 database unavailable")
    d = drain.add("session ab12cd34 refreshed for user u123")
    e = drain.add("session ffee0011 refreshed for user u999")
    assert a is b and a.template == "GET /api/v1/cart/<*> <*> <*>"
    assert c is not a
    assert d is e and d.template == "session <*> refreshed for user <*>"
    assert drain.match("GET /api/v1/cart/1 200 1ms") is a
    assert drain.match("totally different line here") is None


def test_grouping_accuracy_by_hand() -> None:
    assert grouping_accuracy([1, 1, 2, 3], ["a", "a", "b", "b"]) == pytest.approx(0.5)
    assert grouping_accuracy([1, 1, 2], ["x", "x", "y"]) == 1.0


def test_drain_groups_the_sample_like_its_templates(log_sample: Path) -> None:
    lines = read_labelled(log_sample)
    assert lines.templates is not None
    assert grouping_accuracy(drain_groups(lines.contents), lines.templates) >= 0.95


def test_sample_file_is_the_generated_sample(log_sample: Path) -> None:
    lines = read_labelled(log_sample)
    assert lines.contents == [line.content for line in generate()]


def test_template_detector_beats_new_template_baseline(log_sample: Path) -> None:
    lines = read_labelled(log_sample)
    ours = evaluate_logs(lines, "template_anomaly")
    baseline = evaluate_logs(lines, "new_template")
    assert ours.event_f1 > baseline.event_f1
    assert ours.event_recall > baseline.event_recall
    assert ours.event_precision >= 0.8


def test_bad_log_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("Label,Message\n-,hello\n")
    with pytest.raises(LogDataError, match="'Content'"):
        read_labelled(bad)
    with pytest.raises(LogDataError, match="not a file"):
        read_labelled(tmp_path / "missing.csv")
