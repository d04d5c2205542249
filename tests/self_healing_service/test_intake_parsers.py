"""The three intake formats normalise to the same `Incident` (contracts §6)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from notices import alertmanager, monitoring, pubsub

from self_healing_service.incidents import (
    IntakeError,
    from_alertmanager,
    from_monitoring,
    from_pubsub,
)


def test_one_incident_whichever_way_it_came() -> None:
    by_webhook = from_monitoring(monitoring("0.x", "crash_loop", "shop/cart"))
    by_push = from_pubsub(pubsub(monitoring("0.x", "crash_loop", "shop/cart")))
    (by_alertmanager,) = from_alertmanager(alertmanager("x", "crash_loop", "shop/cart"))
    assert replace(by_push, source="monitoring") == by_webhook
    assert (by_alertmanager.id, by_alertmanager.source) == ("am-x", "alertmanager")
    for incident in (by_webhook, by_push, by_alertmanager):
        assert (incident.issue, incident.kind, incident.workload, incident.state) == (
            "crash_loop", "Deployment", "shop/cart", "open",
        )  # fmt: skip
    assert by_webhook.observed == pytest.approx(0.93) and by_webhook.threshold == pytest.approx(0.8)
    node = from_monitoring(monitoring("0.n", "node_failure", "n1", node="n1"))
    assert (node.kind, node.workload) == ("Node", "n1")
    (am_node,) = from_alertmanager(alertmanager("n", "node_failure", "", node="n1"))
    assert (am_node.kind, am_node.workload) == ("Node", "n1")
    closed = from_monitoring(monitoring("0.x", "crash_loop", "shop/cart", state="CLOSED"))
    assert closed.state == "closed" and closed.ended_at is not None
    (resolved,) = from_alertmanager(alertmanager("x", "crash_loop", "shop/cart", status="resolved"))
    assert resolved.state == "closed"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "incident"),
        ({"incident": {"incident_id": "", "state": "open"}}, "incident.incident_id"),
        ({"incident": {"incident_id": "1", "state": "open", "metric": {"labels": {"issue": "x"}}}},
         "metric.labels.workload"),
    ],
)  # fmt: skip
def test_bad_monitoring_notices_name_the_field(payload: dict[str, object], field: str) -> None:
    with pytest.raises(IntakeError) as error:
        from_monitoring(payload)
    assert error.value.field == field


def test_bad_push_and_alertmanager_notices_name_the_field() -> None:
    with pytest.raises(IntakeError, match=r"message\.data"):
        from_pubsub({"message": {"data": "not base64!"}})
    bad = alertmanager("x", "crash_loop", "shop/cart")
    bad["alerts"][0]["labels"].pop("workload")
    with pytest.raises(IntakeError) as error:
        from_alertmanager(bad)
    assert error.value.field == "alerts.0.labels.workload"
