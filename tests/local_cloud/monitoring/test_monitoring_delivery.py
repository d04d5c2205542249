"""Notices leave in Cloud Monitoring's shapes: incident JSON 1.2, webhook auth, Pub/Sub push; retried."""

from __future__ import annotations

import base64
import json
from typing import Any

import jsonschema
import pytest
from monitoring_fixtures import Receiver, SeriesFactory
from pydantic import SecretStr

from local_cloud.clock import ManualClock
from local_cloud.monitoring import (
    Dispatcher,
    Monitoring,
    NotificationChannel,
    PubSubPushChannel,
    RetrySchedule,
    WebhookChannel,
    load_policies,
)

POLICY = {p.name: p for p in load_policies().policies}["memory-leak"]

# The schema 1.2 payload of shared notes §1.1, with the types the field notes give.
_STR = {"type": "string"}
_LABELS = {"type": "object", "additionalProperties": {"type": "string"}}
INCIDENT_1_2 = {
    "type": "object",
    "required": ["incident", "version"],
    "additionalProperties": False,
    "properties": {
        "version": {"const": "1.2"},
        "incident": {
            "type": "object",
            "required": [
                "incident_id",
                "scoping_project_id",
                "scoping_project_number",
                "url",
                "started_at",
                "ended_at",
                "state",
                "resource_id",
                "resource_name",
                "resource_display_name",
                "resource_type_display_name",
                "resource",
                "metric",
                "metadata",
                "policy_name",
                "policy_user_labels",
                "condition_name",
                "threshold_value",
                "observed_value",
                "condition",
                "documentation",
                "summary",
                "severity",
            ],
            "properties": {
                "incident_id": {"type": "string", "pattern": r"^0\.[0-9a-z]+$"},
                "scoping_project_number": {"type": "integer"},
                "started_at": {"type": "integer"},
                "ended_at": {"type": ["integer", "null"]},
                "state": {"enum": ["open", "closed"]},
                "resource": {
                    "type": "object",
                    "required": ["type", "labels"],
                    "properties": {"type": _STR, "labels": _LABELS},
                },
                "metric": {
                    "type": "object",
                    "required": ["type", "displayName", "labels"],
                    "properties": {"type": _STR, "displayName": _STR, "labels": _LABELS},
                },
                "metadata": {
                    "type": "object",
                    "required": ["system_labels", "user_labels"],
                },
                "policy_user_labels": _LABELS,
                "threshold_value": _STR,
                "observed_value": _STR,
                "condition": {
                    "type": "object",
                    "required": ["name", "displayName", "conditionThreshold"],
                    "properties": {
                        "conditionThreshold": {
                            "type": "object",
                            "required": [
                                "filter",
                                "aggregations",
                                "comparison",
                                "thresholdValue",
                                "duration",
                                "trigger",
                            ],
                        }
                    },
                },
                "documentation": {
                    "type": "object",
                    "required": ["content", "mime_type"],
                    "properties": {"mime_type": {"const": "text/markdown"}},
                },
                "severity": {"enum": ["Critical", "Error", "Warning"]},
                "summary": _STR,
                "url": _STR,
            },
        },
    },
}


def _open_and_close(
    clock: ManualClock, score_series: SeriesFactory, channels: list[NotificationChannel]
) -> Monitoring:
    monitoring = Monitoring(clock, channels=channels)
    t0 = clock.now()
    points = int(POLICY.duration_seconds // 60) + 1
    for i in range(points):
        monitoring.write([score_series(t0 + 60 * i, POLICY.threshold + 0.15)])
    clock.advance(60 * points)
    monitoring.tick()
    clock.advance(POLICY.auto_close_seconds)
    monitoring.tick()
    return monitoring


def test_webhook_token_auth_delivers_schema_1_2(
    clock: ManualClock, score_series: SeriesFactory, receiver: Receiver
) -> None:
    channel = WebhookChannel(
        url=f"{receiver.url}/alerts/monitoring", auth_token=SecretStr("s3cret token")
    )
    _open_and_close(clock, score_series, [channel])
    assert [r.body["incident"]["state"] for r in receiver.requests] == ["open", "closed"]
    for request in receiver.requests:
        assert request.path == "/alerts/monitoring?auth_token=s3cret+token"
        assert "Authorization" not in request.headers
        jsonschema.validate(request.body, INCIDENT_1_2)
    opened, closed = (r.body["incident"] for r in receiver.requests)
    assert opened["incident_id"] == closed["incident_id"]
    assert opened["ended_at"] is None and closed["ended_at"] > closed["started_at"]
    assert opened["policy_user_labels"] == {
        "issue": "memory_leak",
        "severity": "critical",
        "managed_by": "gke-heal",
    }
    assert opened["metric"]["labels"]["workload"] == "shop/cart"
    # One incident per workload: the pods' series are reduced away, the workload stays.
    assert opened["resource"]["labels"] == {"project_id": "local-project"}
    assert opened["metric"]["labels"] == {"workload": "shop/cart"}
    aggregation = opened["condition"]["conditionThreshold"]["aggregations"][0]
    assert aggregation["crossSeriesReducer"] == "REDUCE_MAX"
    assert aggregation["groupByFields"] == ["metric.label.workload"]
    assert float(opened["threshold_value"]) == POLICY.threshold
    assert float(opened["observed_value"]) == pytest.approx(POLICY.threshold + 0.15, abs=1e-3)
    assert opened["condition"]["conditionThreshold"]["duration"] == f"{POLICY.duration_seconds}s"
    assert "shop/cart" in opened["documentation"]["content"]
    assert "${" not in opened["documentation"]["content"]
    assert "s3cret" not in repr(channel)


def test_webhook_basic_auth(
    clock: ManualClock, score_series: SeriesFactory, receiver: Receiver
) -> None:
    channel = WebhookChannel(
        url=f"{receiver.url}/alerts/monitoring", username="monitoring", password=SecretStr("pw:1")
    )
    _open_and_close(clock, score_series, [channel])
    assert len(receiver.requests) == 2
    for request in receiver.requests:
        scheme, _, encoded = request.headers["Authorization"].partition(" ")
        assert scheme == "Basic"
        assert base64.b64decode(encoded).decode() == "monitoring:pw:1"
        assert request.path == "/alerts/monitoring"


def test_pubsub_push_envelope(
    clock: ManualClock, score_series: SeriesFactory, receiver: Receiver
) -> None:
    channel = PubSubPushChannel(
        endpoint=f"{receiver.url}/alerts/pubsub",
        subscription="projects/p/subscriptions/alerts-to-selfheal",
    )
    monitoring = _open_and_close(clock, score_series, [channel])
    assert len(receiver.requests) == 2
    ids = set()
    for request in receiver.requests:
        envelope: dict[str, Any] = request.body
        assert set(envelope) == {"message", "subscription"}
        assert envelope["subscription"] == "projects/p/subscriptions/alerts-to-selfheal"
        message = envelope["message"]
        assert {"data", "messageId", "publishTime", "attributes"} <= set(message)
        assert message["publishTime"].endswith("Z")
        ids.add(message["messageId"])
        incident = json.loads(base64.b64decode(message["data"]))
        jsonschema.validate(incident, INCIDENT_1_2)
    assert len(ids) == 2
    (incident_obj,) = monitoring.incidents()
    last = json.loads(base64.b64decode(receiver.requests[-1].body["message"]["data"]))
    assert last == monitoring.payload(incident_obj)


def test_failed_deliveries_are_retried_with_back_off(
    clock: ManualClock, score_series: SeriesFactory, receiver: Receiver
) -> None:
    receiver.fail_next = 2
    schedule = RetrySchedule(delays=(10.0, 30.0))
    channel = WebhookChannel(url=f"{receiver.url}/hook")
    monitoring = Monitoring(clock, dispatcher=Dispatcher(channels=[channel], schedule=schedule))
    t0 = clock.now()
    for i in range(3):
        monitoring.write([score_series(t0 + 60 * i, 0.99)])
    clock.advance(180)
    _, first = monitoring.tick()
    assert [(a.attempt, a.ok) for a in first] == [(1, False)]
    clock.advance(9)
    assert monitoring.tick()[1] == []  # not due yet
    clock.advance(1)
    assert [(a.attempt, a.ok) for a in monitoring.tick()[1]] == [(2, False)]
    clock.advance(30)
    assert [(a.attempt, a.ok) for a in monitoring.tick()[1]] == [(3, True)]
    assert len(receiver.requests) == 3
    assert receiver.requests[0].body == receiver.requests[2].body


def test_delivery_gives_up_after_the_schedule(
    clock: ManualClock, score_series: SeriesFactory, receiver: Receiver
) -> None:
    receiver.fail_next = 100
    channel = WebhookChannel(url=f"{receiver.url}/hook")
    dispatcher = Dispatcher(channels=[channel], schedule=RetrySchedule(delays=(5.0, 5.0, 5.0)))
    monitoring = Monitoring(clock, dispatcher=dispatcher)
    t0 = clock.now()
    for i in range(3):
        monitoring.write([score_series(t0 + 60 * i, 0.99)])
    clock.advance(180)
    for _ in range(10):
        monitoring.tick()
        clock.advance(5)
    assert len(receiver.requests) == 4
    assert dispatcher.pending() == 0
    assert dispatcher.attempts[-1].detail.endswith("giving up")


def test_unreachable_endpoint_is_retried(clock: ManualClock, score_series: SeriesFactory) -> None:
    channel = WebhookChannel(url="http://127.0.0.1:9/nothing-listens-here")
    monitoring = Monitoring(clock, channels=[channel])
    t0 = clock.now()
    for i in range(3):
        monitoring.write([score_series(t0 + 60 * i, 0.99)])
    clock.advance(180)
    _, attempts = monitoring.tick()
    assert len(attempts) == 1 and not attempts[0].ok
    assert monitoring.dispatcher.pending() == 1
