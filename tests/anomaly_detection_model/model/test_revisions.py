"""Rollout age from pod-template hashes: new revisions, rollbacks, restarts and other pods."""

from __future__ import annotations

from anomaly_detection_model.features import FeatureRow
from anomaly_detection_model.revisions import RevisionTracker, template_hash


def _row(minute: int, pod: str, entity_type: str = "pod", **values: float) -> FeatureRow:
    return FeatureRow(
        entity_type=entity_type,
        entity_id=f"shop/{pod}",
        window_end=f"2026-01-01T00:{minute:02d}:00Z",
        namespace="shop",
        pod=pod,
        deployment="cart-api",
        values=dict(values),
    )


def test_template_hash_reads_deployment_pod_names_only() -> None:
    assert template_hash("cart-api-7d9f8c6b5-x2x4z", "cart-api") == "7d9f8c6b5"
    assert template_hash("cart-api-0", "cart-api") is None  # a StatefulSet pod
    assert template_hash("other-7d9f8c6b5-x2x4z", "cart-api") is None
    assert template_hash(None, "cart-api") is None


def test_a_new_hash_dates_the_rollout_and_the_first_hashes_do_not() -> None:
    tracker = RevisionTracker()
    first = [_row(1, "cart-api-aaaa-1"), _row(1, "cart-api-aaaa-2")]
    tracker.observe(first)
    tracker.fill(first[0])
    assert first[0].get("rollout_age_seconds") is None  # the revision we started with
    # A pod restarting or being replaced keeps the hash: no rollout.
    tracker.observe([_row(2, "cart-api-aaaa-3")])
    later = _row(3, "cart-api-aaaa-1")
    tracker.fill(later)
    assert later.get("rollout_age_seconds") is None
    tracker.observe([_row(4, "cart-api-bbbb-1"), _row(4, "cart-api-aaaa-1")])
    deployment_row = _row(6, "cart-api-aaaa-1", entity_type="deployment")
    tracker.fill(deployment_row)
    assert deployment_row.get("rollout_age_seconds") == 120.0


def test_a_hash_coming_back_after_a_while_is_a_rollback() -> None:
    tracker = RevisionTracker()
    tracker.observe([_row(0, "cart-api-aaaa-1")])
    tracker.observe([_row(1, "cart-api-bbbb-1")])
    tracker.observe([_row(30, "cart-api-bbbb-1")])
    tracker.observe([_row(45, "cart-api-aaaa-9")])  # gone for 45 min, now back
    row = _row(46, "cart-api-aaaa-9")
    tracker.fill(row)
    assert row.get("rollout_age_seconds") == 60.0


def test_a_given_rollout_age_is_kept() -> None:
    tracker = RevisionTracker()
    tracker.observe([_row(0, "cart-api-aaaa-1")])
    tracker.observe([_row(1, "cart-api-bbbb-1")])
    row = _row(2, "cart-api-bbbb-1", rollout_age_seconds=5.0)
    tracker.fill(row)
    assert row.get("rollout_age_seconds") == 5.0
