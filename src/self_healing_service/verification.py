"""Verification: did the workload (or node) recover after an action? Pure judgement of a view;
the engine polls it for a bounded time and needs it healthy for a stable stretch."""

from __future__ import annotations

from dataclasses import dataclass

from self_healing_service.decision import PlannedAction
from self_healing_service.view import ClusterView

# Mean CPU over the limit above which a scale-out has not relieved the pods: the usual HPA
# target of 80 % (the classifier calls 90 % saturated; a fix must leave headroom below that).
SATURATED_CPU_SHARE = 0.8
BAD_REASONS = ("CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull", "OOMKilled", "Error")


@dataclass(frozen=True)
class Health:
    healthy: bool
    reason: str
    # Not healthy yet, but getting there: a rollout moving on, with no pod failing. Worth
    # waiting for (up to the rollout's own deadline) rather than calling the fix a failure.
    progressing: bool = False
    # The fix has fully landed and the signal is still bad: waiting longer changes nothing,
    # so once this holds for a settled stretch the next rung can start.
    settled: bool = False


def judge(planned: PlannedAction, view: ClusterView) -> Health:
    """Healthy means what the action promised: node emptied, or workload fully rolled out."""
    if planned.kind == "Node":
        node = view.node
        if node is None:
            return Health(False, "node not found")
        if not node.unschedulable:
            return Health(False, "node still schedulable")
        if planned.name == "drain" and node.evictable_pods:
            return Health(False, f"{len(node.evictable_pods)} pods still on the node")
        return Health(True, "node cordoned" + (" and drained" if planned.name == "drain" else ""))
    workload = view.workload
    if workload is None:
        return Health(False, "deployment not found")
    if planned.name == "scale" and workload.replicas < int(planned.params.get("replicas", 0)):
        return Health(False, f"replicas {workload.replicas} below the target")
    live = view.live_pods
    crashing = [p.name for p in live if p.reason in BAD_REASONS]
    if crashing:
        return Health(False, f"{len(crashing)} pods failing ({crashing[0]})")
    if not workload.rolled_out:
        return Health(
            False,
            f"rollout in progress ({workload.available}/{workload.replicas} available)",
            progressing=not workload.progress_deadline_exceeded,
        )
    ready = sum(1 for p in live if p.ready)
    cpu = ""
    if planned.name == "scale":
        # Pods ready is not enough for a scale-out: it must also have relieved the CPU.
        shares = [p.cpu_limit_share for p in live if p.ready and p.cpu_limit_share is not None]
        if ready >= workload.replicas and shares:
            mean = sum(shares) / len(shares)
            if mean >= SATURATED_CPU_SHARE:
                measured = len(shares) >= workload.replicas  # every pod's use is in
                return Health(
                    False, f"CPU still at {mean:.0%} of its limit after scaling", settled=measured
                )
            cpu = f", CPU at {mean:.0%} of its limit"
    if ready < workload.replicas:
        return Health(
            False,
            f"{ready}/{workload.replicas} pods ready",
            progressing=not workload.progress_deadline_exceeded,
        )
    return Health(True, f"{ready}/{workload.replicas} pods ready, rollout complete{cpu}")
