"""The guardrail stages, in the order they run (assembled once, in `default_chain`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from self_healing_service.guardrails.dependency import DependencyStage
from self_healing_service.guardrails.stage import Stage, StageInput, Stop
from self_healing_service.selector import matches, parse_selector

GITOPS_ANNOTATIONS = (
    "argocd.argoproj.io/tracking-id",
    "argocd.argoproj.io/managed-by",
    "kustomize.toolkit.fluxcd.io/name",
    "helm.toolkit.fluxcd.io/name",
    "gke-heal.io/gitops",
)
EXCLUDE_LABEL = "gke-heal.io/exclude"
HOUR = 3600.0
WORKLOAD_ACTIONS = ("delete_pod", "rollout_restart", "scale", "rollout_undo")
NODE_ACTIONS = ("cordon", "drain")


def _ago(seconds: float) -> str:
    return f"{int(seconds // 60)} min ago" if seconds >= 120 else f"{int(seconds)} s ago"


@dataclass(frozen=True)
class PausedStage:
    name: str = "paused"

    def __call__(self, given: StageInput) -> Stop | None:
        if given.history.paused:
            return Stop(self.name, "automation is paused")
        return None


@dataclass(frozen=True)
class TargetStage:
    """The target exists and the action fits it."""

    name: str = "target"

    def __call__(self, given: StageInput) -> Stop | None:
        action, view = given.step.action, given.view
        if action in NODE_ACTIONS and view.node is None:
            return Stop(self.name, f"node {given.incident.name} not found")
        if action in WORKLOAD_ACTIONS and view.workload is None:
            return Stop(self.name, f"deployment {given.incident.workload} not found")
        return None


@dataclass(frozen=True)
class ScopeStage:
    name: str = "scope"

    def __call__(self, given: StageInput) -> Stop | None:
        incident, limits = given.incident, given.limits
        if incident.kind == "Node":
            node = given.view.node
            if node is not None and node.annotations.get(EXCLUDE_LABEL) == "true":
                return Stop(self.name, f"node {node.name} is excluded ({EXCLUDE_LABEL})")
            return None
        namespace = incident.namespace
        if namespace == "kube-system" and not limits.allow_kube_system:
            return Stop(self.name, "kube-system is out of scope")
        if limits.allowed_namespaces and namespace not in limits.allowed_namespaces:
            return Stop(self.name, f"namespace {namespace} is not in the allowed namespaces")
        if namespace in limits.excluded_namespaces:
            return Stop(self.name, f"namespace {namespace} is excluded")
        workload = given.view.workload
        if workload is not None and "true" in (
            workload.labels.get(EXCLUDE_LABEL),
            workload.annotations.get(EXCLUDE_LABEL),
        ):
            return Stop(self.name, f"{incident.workload} is excluded ({EXCLUDE_LABEL})")
        if (
            workload is not None
            and limits.label_selector
            and not matches(parse_selector(limits.label_selector), workload.labels)
        ):
            return Stop(
                self.name,
                f"{incident.workload} does not match the selector {limits.label_selector}",
            )
        return None


@dataclass(frozen=True)
class SilenceStage:
    name: str = "silence"

    def __call__(self, given: StageInput) -> Stop | None:
        until = given.history.silenced_until
        if until is not None and until > given.now:
            return Stop(self.name, f"silenced for {int(until - given.now)} s more")
        return None


@dataclass(frozen=True)
class CircuitBreakerStage:
    name: str = "circuit_breaker"

    def __call__(self, given: StageInput) -> Stop | None:
        limit = given.limits.breaker_failures
        recent = given.history.outcomes[:limit]
        if limit > 0 and len(recent) == limit and all(o == "failed" for o in recent):
            return Stop(self.name, f"open: the last {limit} fixes failed", "escalate")
        return None


@dataclass(frozen=True)
class GitOpsStage:
    name: str = "gitops"

    def __call__(self, given: StageInput) -> Stop | None:
        workload = given.view.workload
        if workload is None or given.step.action not in WORKLOAD_ACTIONS:
            return None
        owners = [a for a in GITOPS_ANNOTATIONS if a in workload.annotations]
        if owners:
            return Stop(self.name, f"managed by a GitOps controller ({owners[0]})", "postpone")
        return None


@dataclass(frozen=True)
class RolloutStage:
    """Do not act on a workload mid-rollout (except rolling that rollout back)."""

    name: str = "rollout"

    def __call__(self, given: StageInput) -> Stop | None:
        workload, action = given.view.workload, given.step.action
        if workload is None or action not in WORKLOAD_ACTIONS or action == "rollout_undo":
            return None
        if workload.paused and action == "rollout_restart":
            return Stop(self.name, "the deployment is paused")
        progressing = (
            workload.observed_generation < workload.generation
            or workload.updated < workload.replicas
        )
        if progressing and not workload.progress_deadline_exceeded:
            return Stop(self.name, "the workload is mid-rollout", "postpone")
        return None


@dataclass(frozen=True)
class UndoStage:
    name: str = "undo"

    def __call__(self, given: StageInput) -> Stop | None:
        workload = given.view.workload
        undo = given.step.action == "rollout_undo" and workload is not None
        if undo and workload is not None and workload.previous_revision is None:
            return Stop(self.name, "no previous revision to roll back to", "escalate")
        return None


@dataclass(frozen=True)
class ScaleStage:
    name: str = "scale"

    def __call__(self, given: StageInput) -> Stop | None:
        workload = given.view.workload
        if given.step.action != "scale" or workload is None:
            return None
        if workload.hpa_name is not None:
            return Stop(
                self.name,
                f"HPA {workload.hpa_name} owns the replica count (max {workload.hpa_max})",
                "escalate",
            )
        if workload.replicas >= given.limits.max_scale_replicas:
            return Stop(
                self.name,
                f"already at the maximum of {given.limits.max_scale_replicas} replicas",
                "escalate",
            )
        return None


@dataclass(frozen=True)
class CooldownStage:
    name: str = "cooldown"

    def __call__(self, given: StageInput) -> Stop | None:
        if given.step.action == "scale":
            # Adding pods disrupts none, so a saturated service is not left waiting behind
            # an earlier fix (the HPA, too, scales up without a stabilisation window). The
            # rate limit and max_scale_replicas still bound it.
            return None
        target = given.incident.workload
        for record in given.history.actions:
            if record.target != target or record.incident_id == given.incident.id:
                continue
            age = given.now - record.at
            if age < given.limits.cooldown_seconds:
                return Stop(self.name, f"cooldown: last action {_ago(age)}")
        return None


@dataclass(frozen=True)
class RateLimitStage:
    name: str = "rate_limit"

    def __call__(self, given: StageInput) -> Stop | None:
        limits, target = given.limits, given.incident.workload
        last_hour = [a for a in given.history.actions if given.now - a.at < HOUR]
        on_target = sum(1 for a in last_hour if a.target == target)
        if on_target >= limits.target_actions_per_hour:
            return Stop(self.name, f"{on_target} actions on {target} in the last hour")
        if len(last_hour) >= limits.global_actions_per_hour:
            return Stop(self.name, f"{len(last_hour)} actions in the cluster in the last hour")
        return None


@dataclass(frozen=True)
class ShareCapStage:
    """Never take more than a share of a workload's pods, or of a node pool, at once."""

    name: str = "share_cap"

    def __call__(self, given: StageInput) -> Stop | None:
        action, view, limits = given.step.action, given.view, given.limits
        if action == "delete_pod" and view.workload is not None:
            disrupted = sum(1 for p in view.pods if p.terminating)
            replicas = max(view.workload.replicas, 1)
            if (disrupted + 1) / replicas > limits.max_workload_share:
                ready = [p for p in view.live_pods if p.ready]
                if len(ready) == len(view.live_pods):  # deleting a healthy pod would hurt
                    return Stop(self.name, f"{disrupted + 1}/{replicas} pods would be disrupted")
        if action in NODE_ACTIONS and view.node is not None and not view.node.unschedulable:
            pool = max(view.pool_nodes, 1)
            if (view.pool_unschedulable + 1) / pool > limits.max_node_pool_share:
                return Stop(
                    self.name,
                    f"{view.pool_unschedulable + 1}/{pool} nodes of pool {view.node.pool} "
                    "would be out of service",
                    "escalate",
                )
        return None


@dataclass(frozen=True)
class ClusterWideStage:
    """Most of the cluster NotReady at once is the control plane or the network failing, not
    the nodes: cordoning and draining would only push pods towards nodes that are no better
    (Kubernetes' node controller stops evicting in this state for the same reason)."""

    name: str = "cluster_wide"
    min_nodes: int = 3

    def __call__(self, given: StageInput) -> Stop | None:
        view = given.view
        if given.step.action not in NODE_ACTIONS or view.cluster_nodes == 0:
            return None
        down, total = view.cluster_not_ready, view.cluster_nodes
        if down >= self.min_nodes and down / total > given.limits.max_not_ready_share:
            return Stop(
                self.name,
                f"{down}/{total} nodes are NotReady at once: the control plane or the network, "
                "not this node",
                "escalate",
            )
        return None


@dataclass(frozen=True)
class ApprovalStage:
    name: str = "approval"

    def __call__(self, given: StageInput) -> Stop | None:
        listed = given.step.action in given.limits.approval_actions
        needed = given.step.approval or listed or given.history.mode == "recommend"
        if not needed:
            return None
        approval = given.history.approval
        if approval is not None and approval.rung == given.rung:
            if approval.valid(given.now):
                return None
            if approval.status == "denied":
                return Stop(self.name, f"denied by {approval.decided_by}", "escalate")
        if given.history.mode == "recommend":
            why = "recommend mode"
        elif listed:
            why = f"{given.step.action} always needs approval"
        else:
            why = "risky action"
        return Stop(self.name, f"approval required ({why})", "await_approval")


def default_chain() -> tuple[Stage, ...]:
    """The stages in order: cheapest and most absolute first, approval last."""
    return (
        PausedStage(),
        TargetStage(),
        ScopeStage(),
        SilenceStage(),
        CircuitBreakerStage(),
        ClusterWideStage(),
        GitOpsStage(),
        RolloutStage(),
        UndoStage(),
        DependencyStage(),
        ScaleStage(),
        CooldownStage(),
        RateLimitStage(),
        ShareCapStage(),
        ApprovalStage(),
    )


def run_chain(stages: Sequence[Stage], given: StageInput) -> Stop | None:
    """The first stop, or None when every stage says go on."""
    for stage in stages:
        stop = stage(given)
        if stop is not None:
            return stop
    return None
