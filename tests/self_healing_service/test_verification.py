"""Verification's judgement of a view: a rollout still moving on is worth waiting for, a
failing pod or a rollout past its progress deadline is not, and a scale-out has worked only
once it has relieved the CPU."""

from __future__ import annotations

import pytest

from self_healing_service.decision import PlannedAction
from self_healing_service.diagnosis import cpu_cores, cpu_shares
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


def _scaled(shares: list[float | None]) -> ClusterView:
    workload = WorkloadView(
        namespace="shop", name="cart", replicas=len(shares), ready=len(shares),
        available=len(shares), updated=len(shares), generation=2, observed_generation=2,
    )  # fmt: skip
    pods = tuple(
        PodView(f"cart-{i}", f"uid-{i}", "Running", True, 0, "node-1", cpu_limit_share=share)
        for i, share in enumerate(shares)
    )
    return ClusterView(gathered_at=0.0, workload=workload, pods=pods)


SCALE = PlannedAction("scale", "Deployment", "shop", "cart", {"replicas": 4})


def test_a_scale_out_that_left_the_pods_saturated_has_not_recovered() -> None:
    health = judge(SCALE, _scaled([0.97, 0.95, 0.99, 0.93]))
    assert not health.healthy and not health.progressing
    assert "CPU still at 96%" in health.reason
    assert health.settled  # every pod measured: waiting longer will not change it


def test_a_scale_out_still_unmeasured_on_some_pods_is_not_settled() -> None:
    health = judge(SCALE, _scaled([0.97, 0.95, None, None]))
    assert not health.healthy and not health.settled


def test_a_scale_out_that_relieved_the_cpu_has_recovered() -> None:
    health = judge(SCALE, _scaled([0.55, 0.6, 0.58, 0.61]))
    assert health.healthy and "CPU at 58%" in health.reason


def test_without_metrics_a_scale_out_is_judged_on_readiness() -> None:
    assert judge(SCALE, _scaled([None, None, None, None])).healthy


@pytest.mark.parametrize(
    ("quantity", "cores"),
    [("250m", 0.25), ("1", 1.0), ("1500000000n", 1.5), ("2500u", 0.0025), ("x", None), ("", None)],
)
def test_cpu_quantities(quantity: str, cores: float | None) -> None:
    assert cpu_cores(quantity) == (pytest.approx(cores) if cores is not None else None)


def test_cpu_share_is_use_over_the_sum_of_limits() -> None:
    pod = {
        "metadata": {"name": "cart-0"},
        "spec": {
            "containers": [
                {"name": "app", "resources": {"limits": {"cpu": "500m"}}},
                {"name": "proxy", "resources": {"limits": {"cpu": "500m"}}},
            ]
        },
    }
    metrics = {
        "metadata": {"name": "cart-0"},
        "containers": [{"name": "app", "usage": {"cpu": "700000000n"}},
                       {"name": "proxy", "usage": {"cpu": "100m"}}],
    }  # fmt: skip
    unlimited = {"metadata": {"name": "cart-1"}, "spec": {"containers": [{"name": "app"}]}}
    shares = cpu_shares([pod, unlimited], [metrics, {**metrics, "metadata": {"name": "cart-1"}}])
    assert shares == {"cart-0": pytest.approx(0.8)}
