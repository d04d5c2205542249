"""Parse and validate: good messages become points and records, bad ones dead letters with reasons."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from telemetry_pipeline.records import (
    DeadLetter,
    LogRecord,
    MetricPoint,
    deployment_of_pod,
    parse_log,
    parse_metric,
)


def test_a_good_metric_is_normalised(telemetry: Any) -> None:
    doc = telemetry.metric("kubernetes.io/container/memory/used_bytes", 1234, 1_767_225_605.0)
    point = parse_metric(doc)
    assert isinstance(point, MetricPoint)
    assert (point.value, point.deployment, point.node) == (1234.0, "cart", "node-a")
    assert point.source == ("shop", "cart-7d9f8c6b5-x2kqp", "cart", "")
    row = point.to_row()
    assert row["timestamp"] == doc["points"][0]["interval"]["endTime"]
    assert (row["namespace"], row["pod"], row["container"]) == (
        "shop",
        "cart-7d9f8c6b5-x2kqp",
        "cart",
    )
    # The same message as JSON text or bytes parses the same way (careful path vs fast path).
    assert parse_metric(json.dumps(doc)) == point
    assert parse_metric(json.dumps(doc).encode()) == point


def _broken(telemetry: Any, change: str) -> Any:
    doc = telemetry.metric("kubernetes.io/container/memory/used_bytes", 5, 1_767_225_605.0)
    broken = copy.deepcopy(doc)
    if change == "no metric":
        del broken["metric"]
    elif change == "no type":
        del broken["metric"]["type"]
    elif change == "no pod label":
        del broken["resource"]["labels"]["pod_name"]
    elif change == "no points":
        del broken["points"]
    elif change == "empty points":
        broken["points"] = []
    elif change == "int as word":
        broken["points"][0]["value"] = {"int64Value": "five"}
    elif change == "double as bool":
        broken["points"][0]["value"] = {"doubleValue": True}
    elif change == "bad time":
        broken["points"][0]["interval"]["endTime"] = "yesterday"
    elif change == "labels not object":
        broken["resource"]["labels"] = ["shop"]
    elif change == "unknown resource":
        broken["resource"]["type"] = "gce_instance"
    elif change == "no value":
        broken["points"][0]["value"] = {}
    return broken


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ("no metric", "missing field: metric"),
        ("no type", "missing field: metric.type"),
        ("no pod label", "missing field: resource.labels.pod_name"),
        ("no points", "missing field: points"),
        ("empty points", "wrong type: points expected a non-empty list"),
        ("int as word", "wrong type: points[0].value.int64Value expected an integer string"),
        ("double as bool", "wrong type: points[0].value.doubleValue expected a number"),
        ("bad time", "wrong type: points[0].interval.endTime"),
        ("labels not object", "wrong type: resource.labels expected an object"),
        ("unknown resource", "unsupported resource.type: 'gce_instance'"),
        ("no value", "missing field: points[0].value.doubleValue|int64Value|boolValue"),
    ],
)
def test_a_bad_metric_is_a_dead_letter_naming_the_field(
    telemetry: Any, change: str, reason: str
) -> None:
    letter = parse_metric(_broken(telemetry, change), received_at=7.0)
    assert isinstance(letter, DeadLetter)
    assert letter.reason.startswith(reason), letter.reason
    assert letter.kind == "metric" and letter.received_at == 7.0
    assert letter.to_row()["payload"]  # the raw message is kept


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        (b'{"metric": ', "malformed JSON"),
        ("not json at all", "malformed JSON"),
        (b"\xff\xfe", "malformed JSON"),
        ("[1, 2]", "wrong type: message expected an object, got list"),
        (42, "wrong type: message expected an object, got int"),
    ],
)
def test_malformed_messages_are_dead_letters(message: Any, reason: str) -> None:
    for parse in (parse_metric, parse_log):
        letter = parse(message)
        assert isinstance(letter, DeadLetter)
        assert letter.reason.startswith(reason), letter.reason


def test_logs_keep_the_sink_schema_and_events_their_reason(telemetry: Any) -> None:
    record = parse_log(telemetry.log("GET /cart 500 in 35ms", 1_767_225_610.0, severity="ERROR"))
    assert isinstance(record, LogRecord)
    assert record.is_error and record.event_reason is None
    assert record.deployment == "cart" and record.node == "node-a"
    row = record.to_row()
    assert row["resource"]["labels"]["pod_name"] == "cart-7d9f8c6b5-x2kqp"
    assert row["textPayload"] == "GET /cart 500 in 35ms"
    assert json.loads(row["labels"])["k8s-pod/app"] == "cart"
    event = parse_log(telemetry.event("BackOff", 1_767_225_611.0))
    assert isinstance(event, LogRecord) and event.event_reason == "BackOff"


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda d: d.pop("logName"), "missing field: logName"),
        (lambda d: d.pop("timestamp"), "missing field: timestamp"),
        (lambda d: d.update(severity=3), "wrong type: severity expected a string"),
        (lambda d: d.pop("textPayload"), "missing field: textPayload|jsonPayload"),
        (lambda d: d.update(jsonPayload="x"), "wrong type: jsonPayload expected an object"),
    ],
)
def test_a_bad_log_is_a_dead_letter(telemetry: Any, mutate: Any, reason: str) -> None:
    doc = telemetry.log("hello", 1_767_225_610.0)
    mutate(doc)
    letter = parse_log(doc)
    assert isinstance(letter, DeadLetter) and letter.reason.startswith(reason), letter


@pytest.mark.parametrize(
    ("pod", "deployment"),
    [("cart-7d9f8c6b5-x2kqp", "cart"), ("kube-dns-f5qpkjzdmm-d9wfp", "kube-dns"),
     ("redis-0", None), ("standalone", None)],
)  # fmt: skip
def test_deployment_from_pod_name(pod: str, deployment: str | None) -> None:
    assert deployment_of_pod(pod) == deployment
