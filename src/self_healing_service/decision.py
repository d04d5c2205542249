"""`decide`: the pure function from an incident, the cluster, the history and the clock to what
the service should do next, with its reasons. No I/O here."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from self_healing_service.guardrails import Limits, Stage, StageInput, default_chain, run_chain
from self_healing_service.history import History
from self_healing_service.incidents import Incident
from self_healing_service.policy import Policy, Step
from self_healing_service.view import ClusterView

PINNED_CPU_SHARE = 0.95  # mean CPU over limit at which pods are throttled, demand unknown
Outcome = Literal["act", "await_approval", "notify_only", "skip", "postpone", "escalate", "close"]


@dataclass(frozen=True)
class PlannedAction:
    """An action chosen for a target, with its parameters resolved against the cluster."""

    name: str
    kind: str
    namespace: str
    target: str  # deployment, pod or node name
    params: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        where = self.target if self.kind == "Node" else f"{self.namespace}/{self.target}"
        extra = ", ".join(f"{k}={v}" for k, v in sorted(self.params.items()))
        return f"{self.name} {where}" + (f" ({extra})" if extra else "")


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    rung: int = 0
    action: PlannedAction | None = None
    reasons: tuple[str, ...] = ()
    stage: str = ""


def resolve(step: Step, incident: Incident, view: ClusterView, limits: Limits) -> PlannedAction:
    """Turn a policy step into a concrete action on a concrete object."""
    if step.action in ("cordon", "drain"):
        return PlannedAction(step.action, "Node", "", incident.name, dict(step.params))
    params = dict(step.params)
    if step.action == "delete_pod":
        pod = _pod_to_delete(incident, view)
        uid = next((p.uid for p in view.live_pods if p.name == pod), "")
        return PlannedAction("delete_pod", "Pod", incident.namespace, pod, {**params, "uid": uid})
    if step.action == "scale" and view.workload is not None:
        current = view.workload.replicas
        wanted = int(params.pop("replicas", 0)) or scale_out_replicas(current, params, view)
        params = {"from": current, "replicas": min(wanted, limits.max_scale_replicas)}
    if step.action == "rollout_undo" and view.workload is not None:
        params = {"from": view.workload.revision, "to": view.workload.previous_revision}
    return PlannedAction(step.action, "Deployment", incident.namespace, incident.name, params)


def scale_out_replicas(current: int, params: dict[str, Any], view: ClusterView) -> int:
    """How many replicas a scale-out asks for, the way the HPA's scale-up behaves by default.

    At least `factor` times the current count and at least `min_added` more pods (the HPA's
    default: double or add four, whichever is more), and at least enough for the measured
    demand to sit at `target_cpu` of the limit. Pods pinned at their limit hide how much
    CPU they would use, so the measured share is then only a lower bound: that is why the
    growth rules come first, and pods pinned at the limit take `pinned_factor` if given:
    the surge that pins them is one the measured share cannot size.
    """
    factor = float(params.get("factor", 1.5))
    target = params.get("target_cpu")
    shares = [
        p.cpu_limit_share for p in view.live_pods if p.ready and p.cpu_limit_share is not None
    ]
    mean = sum(shares) / len(shares) if shares else None
    if mean is not None and mean >= PINNED_CPU_SHARE and "pinned_factor" in params:
        factor = max(factor, float(params["pinned_factor"]))
    wanted = max(current + int(params.get("min_added", 1)), math.ceil(current * factor))
    if target and mean is not None:
        wanted = max(wanted, math.ceil(mean * current / float(target) - 1e-9))
    return wanted


def _pod_to_delete(incident: Incident, view: ClusterView) -> str:
    live = {p.name: p for p in view.live_pods}
    if incident.pod in live:
        return incident.pod
    worst = sorted(live.values(), key=lambda p: (p.ready, -p.restarts, p.name))
    return worst[0].name if worst else incident.pod


def decide(
    incident: Incident,
    view: ClusterView,
    history: History,
    now: float,
    policy: Policy | None = None,
    limits: Limits | None = None,
    stages: Sequence[Stage] | None = None,
) -> Decision:
    """What to do next about `incident`, and why."""
    policy = policy or Policy()
    limits = limits or Limits()
    if incident.state == "closed":
        return Decision("close", reasons=("the alert closed",))
    ladder = policy.ladder(incident, view, now, limits.recent_rollout_seconds)
    if not ladder:
        return Decision(
            "notify_only",
            reasons=(f"no remediation rule for {incident.issue}; a human decides",),
            stage="policy",
        )
    rung = history.attempted_rungs
    if rung >= len(ladder):
        return Decision(
            "escalate", rung=rung, reasons=(f"all {len(ladder)} rungs tried",), stage="ladder"
        )
    step = ladder[rung]
    given = StageInput(incident, view, history, step, rung, now, limits)
    stop = run_chain(default_chain() if stages is None else stages, given)
    if stop is not None:
        action = None
        if stop.outcome == "await_approval":
            action = resolve(step, incident, view, limits)
        return Decision(stop.outcome, rung, action, (f"{stop.stage}: {stop.reason}",), stop.stage)
    action = resolve(step, incident, view, limits)
    if history.mode == "observe":
        return Decision(
            "notify_only",
            rung,
            action,
            (f"mode: observe; would {action.describe()}",),
            "mode",
        )
    return Decision("act", rung, action, (f"guardrails passed; {action.describe()}",))
