"""`decide` as a table: each case is an incident, a cluster view, a history and the one-line
reason we expect. Pure: no cluster, no store, no clock but the number passed in."""

from __future__ import annotations

from dataclasses import replace

import pytest

from self_healing_service.decision import decide, scale_out_replicas
from self_healing_service.guardrails import Limits
from self_healing_service.history import ActionRecord, ApprovalRecord, History
from self_healing_service.incidents import Incident
from self_healing_service.policy import Policy, Rule, Step
from self_healing_service.view import ClusterView, NodeView, PodView, WorkloadView

NOW = 1_767_225_600.0


def incident(issue: str = "memory_leak", **kw: object) -> Incident:
    base = Incident(
        id="0.abc", state="open", issue=issue, severity="critical", namespace="shop",
        kind="Deployment", name="cart", source="monitoring", started_at=NOW - 60,
    )  # fmt: skip
    return replace(base, **kw)  # type: ignore[arg-type]


def workload(**kw: object) -> WorkloadView:
    base = WorkloadView(
        namespace="shop", name="cart", replicas=3, ready=3, available=3, updated=3,
        generation=2, observed_generation=2, revision=2, previous_revision=1,
        revision_created_at=NOW - 86_400,
    )  # fmt: skip
    return replace(base, **kw)  # type: ignore[arg-type]


def pods(n: int = 3, ready: bool = True) -> tuple[PodView, ...]:
    return tuple(PodView(f"cart-{i}", f"u{i}", "Running", ready, i, "n1") for i in range(n))


def view(**kw: object) -> ClusterView:
    return replace(ClusterView(NOW, workload=workload(), pods=pods()), **kw)  # type: ignore[arg-type]


def node_view(**kw: object) -> ClusterView:
    node = replace(NodeView("n1", False, False, "default-pool", evictable_pods=("shop/a",)), **kw)  # type: ignore[arg-type]
    return ClusterView(NOW, node=node, pool_nodes=3)


ENFORCE = History(mode="enforce")
DB_DOWN = (
    "Traceback (most recent call last):",
    "FATAL: cannot connect to postgres://shop:hunter2-secret@db:5432: connection refused",
    "exiting with status 1",
)
other_action = ActionRecord("0.other", 0, "rollout_restart", "shop/cart", "done", NOW - 120)

CASES = [
    # (name, incident, view, history, outcome, action, reason fragment)
    ("memory leak restarts", incident(), view(), ENFORCE, "act", "rollout_restart", "guardrails passed"),
    ("observe only notifies", incident(), view(), History(mode="observe"), "notify_only", "rollout_restart", "would rollout_restart"),
    ("recommend asks", incident(), view(), History(mode="recommend"), "await_approval", "rollout_restart", "recommend mode"),
    ("paused", incident(), view(), History(mode="enforce", paused=True), "skip", None, "paused"),
    ("closed ends", incident(state="closed"), view(), ENFORCE, "close", None, "closed"),
    ("unknown issue", incident("error_burst"), view(), ENFORCE, "notify_only", None, "no remediation rule"),
    ("kube-system", incident(namespace="kube-system"), view(), ENFORCE, "skip", None, "kube-system"),
    ("missing workload", incident(), view(workload=None, pods=()), ENFORCE, "skip", None, "not found"),
    ("cooldown", incident(), view(), replace(ENFORCE, actions=(other_action,)), "skip", None, "cooldown: last action 2 min ago"),
    ("a scale-out disrupts nothing: no cooldown", incident("cpu_saturation"), view(), replace(ENFORCE, actions=(other_action,)), "act", "scale", "replicas=7"),
    ("rate limit", incident(), view(), replace(ENFORCE, actions=tuple(replace(other_action, at=NOW - 1000 - i) for i in range(3))), "skip", None, "3 actions on shop/cart"),
    ("breaker", incident(), view(), replace(ENFORCE, outcomes=("failed",) * 3), "escalate", None, "last 3 fixes failed"),
    ("gitops", incident(), view(workload=workload(annotations={"argocd.argoproj.io/tracking-id": "x"})), ENFORCE, "postpone", None, "GitOps"),
    ("mid-rollout", incident(), view(workload=workload(updated=1)), ENFORCE, "postpone", None, "mid-rollout"),
    ("silenced", incident(), view(), replace(ENFORCE, silenced_until=NOW + 60), "skip", None, "silenced"),
    ("crash loop after rollout undoes", incident("crash_loop"), view(workload=workload(revision_created_at=NOW - 60, updated=1)), ENFORCE, "act", "rollout_undo", "rollout_undo shop/cart"),
    ("crash loop deletes worst pod", incident("crash_loop"), view(pods=pods(3, ready=False)), ENFORCE, "act", "delete_pod", "delete_pod shop/cart-2"),
    ("crash loop second rung", incident("crash_loop"), view(), replace(ENFORCE, attempted_rungs=1), "act", "rollout_restart", "rollout_restart"),
    ("crash loop on an unreachable database escalates", incident("crash_loop"), view(pods=pods(3, ready=False), logs=DB_DOWN), ENFORCE, "escalate", None, "dependency is unreachable (FATAL: cannot connect to postgres://***@db:5432: connection refused)"),
    ("nor restarts on the second rung", incident("crash_loop"), view(logs=DB_DOWN), replace(ENFORCE, attempted_rungs=1), "escalate", None, "resets their back-off"),
    ("an unreachable database after a rollout still undoes", incident("crash_loop"), view(workload=workload(revision_created_at=NOW - 60, updated=1), logs=DB_DOWN), ENFORCE, "act", "rollout_undo", "rollout_undo shop/cart"),
    ("a crash with no such line deletes the pod", incident("crash_loop"), view(pods=pods(3, ready=False), logs=("panic: nil pointer dereference",)), ENFORCE, "act", "delete_pod", "delete_pod"),
    ("a leaking pod that logs a refused connection still restarts", incident(), view(logs=DB_DOWN), ENFORCE, "act", "rollout_restart", "guardrails passed"),
    ("ladder exhausted", incident(), view(), replace(ENFORCE, attempted_rungs=1), "escalate", None, "all 1 rungs tried"),
    ("bad rollout without history", incident("bad_rollout"), view(workload=workload(previous_revision=None)), ENFORCE, "escalate", None, "no previous revision"),
    ("cpu scales out by four pods (more than doubling 3)", incident("cpu_saturation"), view(), ENFORCE, "act", "scale", "replicas=7"),
    ("cpu still saturated scales again, capped", incident("cpu_saturation"), view(workload=workload(replicas=7, updated=7, available=7)), replace(ENFORCE, attempted_rungs=1), "act", "scale", "replicas=10"),
    ("cpu at max", incident("cpu_saturation"), view(workload=workload(replicas=10, updated=10, available=10)), ENFORCE, "escalate", None, "maximum of 10"),
    ("hpa owns", incident("cpu_saturation"), view(workload=workload(hpa_name="cart", hpa_max=6)), ENFORCE, "escalate", None, "HPA cart"),
    ("share cap healthy pods", incident("crash_loop"), view(pods=(*pods(3), PodView("cart-t", "t", "Running", True, 0, "n1", terminating=True))), ENFORCE, "skip", None, "2/3 pods would be disrupted"),
    ("node drains", incident("node_failure", kind="Node", name="n1", namespace=""), node_view(), ENFORCE, "act", "drain", "drain n1"),
    ("node pool cap", incident("node_failure", kind="Node", name="n1", namespace=""), replace(node_view(), pool_unschedulable=1), ENFORCE, "escalate", None, "2/3 nodes"),
    ("most of the cluster NotReady at once is not a node failure", incident("node_failure", kind="Node", name="n1", namespace=""), replace(node_view(), cluster_nodes=7, cluster_not_ready=4), ENFORCE, "escalate", None, "4/7 nodes are NotReady at once"),
    ("a few nodes NotReady still drain", incident("node_failure", kind="Node", name="n1", namespace=""), replace(node_view(), cluster_nodes=7, cluster_not_ready=3), ENFORCE, "act", "drain", "drain n1"),
    ("two of three NotReady is too few to judge the cluster", incident("node_failure", kind="Node", name="n1", namespace=""), replace(node_view(), cluster_nodes=3, cluster_not_ready=2), ENFORCE, "act", "drain", "drain n1"),
    ("excluded", incident(), view(workload=workload(labels={"gke-heal.io/exclude": "true"})), ENFORCE, "skip", None, "excluded"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("incident_", "view_", "history", "outcome", "action", "reason"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_decide(
    incident_: Incident,
    view_: ClusterView,
    history: History,
    outcome: str,
    action: str | None,
    reason: str,
) -> None:
    decision = decide(incident_, view_, history, NOW)
    assert decision.outcome == outcome, decision.reasons
    if action is not None:
        assert decision.action is not None and decision.action.name == action
    text = " ".join(decision.reasons) + (decision.action.describe() if decision.action else "")
    assert reason in text


LIMITED = [
    # (name, limits, incident, view, outcome, reason fragment)
    ("an action listed for approval waits in enforce mode", Limits(approval_actions=("rollout_restart",)), incident(), view(), "await_approval", "rollout_restart always needs approval"),
    ("an unlisted action goes ahead", Limits(approval_actions=("drain",)), incident(), view(), "act", "guardrails passed"),
    ("a listed node action waits too", Limits(approval_actions=("drain",)), incident("node_failure", kind="Node", name="n1", namespace=""), node_view(), "await_approval", "drain always needs approval"),
    ("an excluded namespace", Limits(excluded_namespaces=("shop",)), incident(), view(), "skip", "namespace shop is excluded"),
    ("a workload outside the selector", Limits(label_selector="heal.gke.io/enabled=true"), incident(), view(), "skip", "does not match the selector heal.gke.io/enabled=true"),
    ("a workload inside the selector", Limits(label_selector="heal.gke.io/enabled=true"), incident(), view(workload=workload(labels={"heal.gke.io/enabled": "true"})), "act", "guardrails passed"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("limits", "incident_", "view_", "outcome", "reason"),
    [c[1:] for c in LIMITED],
    ids=[c[0] for c in LIMITED],
)
def test_configured_limits(
    limits: Limits, incident_: Incident, view_: ClusterView, outcome: str, reason: str
) -> None:
    decision = decide(incident_, view_, ENFORCE, NOW, limits=limits)
    assert decision.outcome == outcome, decision.reasons
    assert reason in " ".join(decision.reasons)


def test_approval_lifecycle() -> None:
    policy = Policy((Rule("memory_leak", (Step("rollout_restart", approval=True),)),))
    waiting = decide(incident(), view(), ENFORCE, NOW, policy)
    assert waiting.outcome == "await_approval"
    approved = ApprovalRecord("a", "0.abc", 0, "rollout_restart", "approved", NOW, NOW + 60, "u")
    assert (
        decide(incident(), view(), replace(ENFORCE, approval=approved), NOW, policy).outcome
        == "act"
    )
    expired = decide(incident(), view(), replace(ENFORCE, approval=approved), NOW + 61, policy)
    assert expired.outcome == "await_approval"
    denied = replace(approved, status="denied")
    result = decide(incident(), view(), replace(ENFORCE, approval=denied), NOW, policy)
    assert result.outcome == "escalate" and "denied by u" in result.reasons[0]


def test_policy_from_yaml_and_limits() -> None:
    policy = Policy.from_yaml(
        "rules:\n- issue: memory_leak\n  namespaces: [shop]\n  ladder:\n"
        "  - {action: scale, params: {replicas: 8}}\n"
    )
    decision = decide(incident(), view(), ENFORCE, NOW, policy, Limits(max_scale_replicas=5))
    assert decision.action is not None and decision.action.params["replicas"] == 5
    with pytest.raises(ValueError, match="action"):
        Policy.from_yaml("rules:\n- issue: x\n  ladder: [{action: reboot_cluster}]\n")


@pytest.mark.parametrize(
    ("current", "shares", "params", "expected"),
    [
        (3, (), {"factor": 2.0, "min_added": 4}, 7),  # the HPA's "add four" beats doubling 3
        (6, (), {"factor": 2.0, "min_added": 4}, 12),  # doubling beats "add four"
        (1, (), {}, 2),  # defaults: x1.5 rounded up, at least one more
        (4, (0.99, 1.0, 1.0, 0.97), {"factor": 1.0, "target_cpu": 0.5}, 8),  # pinned: a floor
        (6, (0.9, 0.85, 0.88, 0.87, 0.9, 0.86), {"factor": 1.0, "target_cpu": 0.6}, 9),
        (3, (0.9, None, 0.9), {"factor": 2.0, "min_added": 1, "target_cpu": 0.3}, 9),
        (3, (1.0, 0.98, 0.99), {"factor": 2.0, "min_added": 1, "pinned_factor": 3.0}, 9),
        (3, (0.9, 0.92, 0.9), {"factor": 2.0, "min_added": 1, "pinned_factor": 3.0}, 6),
    ],
)
def test_scale_out_is_sized_like_the_hpa(
    current: int, shares: tuple[float | None, ...], params: dict[str, float], expected: int
) -> None:
    measured = tuple(
        replace(p, cpu_limit_share=share)
        for p, share in zip(pods(len(shares)), shares, strict=True)
    )
    given = view(workload=workload(replicas=current), pods=measured or pods(current))
    assert scale_out_replicas(current, params, given) == expected


@pytest.mark.parametrize(
    ("line", "shown"),
    [
        ("dial tcp 10.0.0.7:5432: connect: connection refused", "connect: connection refused"),
        ("Error: getaddrinfo ENOTFOUND redis.shop.svc", "ENOTFOUND"),
        ("could not connect to server: password=s3cr3t-value host=db", "password=***"),
        ("redis://:hunter2hunter2@cache:6379 unreachable: i/o timeout", "redis://***@cache"),
        (
            '{"severity": "CRITICAL", "message": "FATAL: cannot connect to db: connection refused"}',
            "FATAL: cannot connect to db: connection refused",
        ),
    ],
)
def test_unreachable_dependency_lines_are_found_and_shown_without_secrets(
    line: str, shown: str
) -> None:
    from self_healing_service.guardrails.dependency import unreachable_dependency

    found = unreachable_dependency(["starting", line])
    assert found is not None and shown in found
    assert "s3cr3t" not in found and "hunter2" not in found
    assert not found.startswith("{")  # a structured line is shown by its message
    assert unreachable_dependency(["upstream request timeout calling db after 900ms"]) is None
