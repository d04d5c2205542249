"""Verification's judgement of a view: a rollout still moving on is worth waiting for, a
failing pod or a rollout past its progress deadline is not."""

from __future__ import annotations

from self_healing_service.decision import PlannedAction
from self_healing_service.verification import judge
from self_healing_service.view import ClusterView, PodView, WorkloadView

RESTART = PlannedAction("rollout_restart", "Deployment", "shop", "cart")


def _view(
    *, updated: int, available: int, ready_pods: int, reason: str = "", stuck: bool = False
) -> ClusterView:
    workload = WorkloadView(
        namespace="shop", name="cart", replicas=3, ready=ready_pods, available=available,
        updated=updated, generation=2, observed_generation=2, progress_deadline_exceeded=stuck,
    )  # fmt: skip
    pods = tuple(
        PodView(f"cart-{i}", f"uid-{i}", "Running", i < ready_pods, 0, "node-1", reason)
        for i in range(3)
    )
    return ClusterView(gathered_at=0.0, workload=workload, pods=pods)


def test_a_rollout_moving_on_is_progressing_not_failed() -> None:
    health = judge(RESTART, _view(updated=1, available=2, ready_pods=2))
    assert not health.healthy
    assert health.progressing
    assert "rollout in progress" in health.reason


def test_a_rollout_past_its_deadline_is_not_worth_waiting_for() -> None:
    health = judge(RESTART, _view(updated=1, available=2, ready_pods=2, stuck=True))
    assert not health.healthy
    assert not health.progressing


def test_crashing_pods_are_a_failure_even_mid_rollout() -> None:
    health = judge(RESTART, _view(updated=1, available=2, ready_pods=2, reason="CrashLoopBackOff"))
    assert not health.healthy
    assert not health.progressing
    assert "failing" in health.reason


def test_a_complete_rollout_with_every_pod_ready_is_healthy() -> None:
    health = judge(RESTART, _view(updated=3, available=3, ready_pods=3))
    assert health.healthy
