"""The node agents' side of telemetry: sample every running container each interval, advance its
counters, write its log lines, and turn it all into GKE-shaped metrics and log entries.

Traffic of a workload is split over its ready pods; a pod that is not ready gets none (it is
out of the Service's endpoints), which is why scaling out relieves a saturated workload.
"""

from __future__ import annotations

import itertools
import random
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from local_cloud.clock import rfc3339
from local_cloud.gke.containers import ContainerState, PodState
from local_cloud.gke.faults import Effect
from local_cloud.gke.kubelet import Kubelet
from local_cloud.gke.objects import get_condition
from local_cloud.gke.quantity import cpu_cores, memory_bytes
from local_cloud.gke.runtime import Usage
from local_cloud.gke.telemetry import ClusterIdentity, cumulative, gauge, log_entry
from local_cloud.gke.telemetry import interval as point_interval
from local_cloud.gke.workload import count, pick, render, sample, seasonality

Obj = dict[str, Any]
K = "kubernetes.io/"
W = "workload.googleapis.com/http/server/"
_NON_EVICTABLE = {"memory_type": "non-evictable"}
REQUEST_BYTES, RESPONSE_BYTES = 900, 4200
# How much of a dependency's trouble its callers see: half its failures become their 5xx
# (the rest are retried or degrade gracefully), half its extra latency adds to their p95.
UPSTREAM_ERROR_SHARE, UPSTREAM_LATENCY_SHARE = 0.5, 0.5
Workload = tuple[str, str]


@dataclass
class Collected:
    """One interval's telemetry, and usage for the metrics API."""

    metrics: list[Obj] = field(default_factory=list)
    logs: list[Obj] = field(default_factory=list)
    pod_usage: dict[tuple[str, str], dict[str, Usage]] = field(default_factory=dict)
    node_usage: dict[str, Usage] = field(default_factory=dict)
    resync: list[tuple[str, str]] = field(default_factory=list)  # pods whose plans changed


def pod_ready(state: PodState) -> bool:
    return not state.deleting and all(c.ready for c in state.containers)


class TelemetryAgent:
    def __init__(self, identity: ClusterIdentity, seed: int) -> None:
        self.identity = identity
        self.rng = random.Random(seed)
        self._ids = itertools.count(1)
        self._prefix = f"{seed & 0xFFFF:04x}"
        # pod uid -> (metric metadata, log labels, k8s_pod resource)
        self._pod_meta: dict[str, tuple[Obj, Obj, Obj]] = {}
        self._resources: dict[tuple[str, str], Obj] = {}  # (pod uid, container) -> resource
        self._stamps: dict[float, str] = {}  # container start time -> RFC 3339
        # workload -> (ready pods, error rate, latency above its profile's) at the last interval
        self._health: dict[Workload, tuple[int, float, float]] = {}
        self._tally: dict[Workload, list[float]] = {}  # rps, errors/s, excess latency x rps

    def _meta(self, state: PodState) -> tuple[Obj, Obj, Obj]:
        cached = self._pod_meta.get(state.uid)
        if cached is None:
            controller = ("Deployment", state.workload) if state.workload else ("Pod", state.name)
            metadata = {
                "userLabels": state.labels,
                "systemLabels": {
                    "top_level_controller_type": controller[0],
                    "top_level_controller_name": controller[1],
                    "node_name": state.node,
                },
            }
            labels = {f"k8s-pod/{k}": v for k, v in state.labels.items()}
            labels["compute.googleapis.com/resource_name"] = state.node
            cached = (metadata, labels, self.identity.pod(state.namespace, state.name))
            self._pod_meta[state.uid] = cached
        return cached

    def forget(self, uid: str) -> None:
        meta = self._pod_meta.pop(uid, None)
        if meta is not None:
            for key in [k for k in self._resources if k[0] == uid]:
                del self._resources[key]

    def _resource(self, state: PodState, container: str) -> Obj:
        found = self._resources.get((state.uid, container))
        if found is None:
            found = self.identity.container(state.namespace, state.name, container)
            self._resources[(state.uid, container)] = found
        return found

    def _stamp(self, ts: float) -> str:
        found = self._stamps.get(ts)
        if found is None:
            if len(self._stamps) > 50_000:
                self._stamps.clear()
            found = self._stamps[ts] = rfc3339(ts)
        return found

    def _upstream(self, namespace: str, dependencies: tuple[str, ...]) -> tuple[float, float]:
        errors = latency = 0.0
        for dependency in dependencies:
            health = self._health.get((namespace, dependency))
            if health is None:
                continue  # not running in this cluster: assume it is healthy
            ready, error_rate, excess = health
            errors += UPSTREAM_ERROR_SHARE * (1.0 if ready == 0 else error_rate)
            latency += UPSTREAM_LATENCY_SHARE * excess
        return min(errors, 0.95), latency

    def collect(
        self,
        kubelets: Iterable[Kubelet],
        nodes: list[Obj],
        now: float,
        interval: float,
        effect_of: Callable[[PodState, ContainerState], Effect],
    ) -> Collected:
        out = Collected()
        alive = [k for k in kubelets if k.alive]
        ready: Counter[tuple[str, str]] = Counter()
        for kubelet in alive:
            for state in kubelet.pods.values():
                if pod_ready(state):
                    ready[(state.namespace, state.workload or state.name)] += 1
        load = seasonality(now)
        end = rfc3339(now)
        node_use: dict[str, list[float]] = {}
        for kubelet in sorted(alive, key=lambda k: k.node):
            totals = node_use.setdefault(kubelet.node, [0.0, 0.0])
            for key in sorted(kubelet.pods):
                state = kubelet.pods[key]
                share = (
                    1.0 / ready[(state.namespace, state.workload or state.name)]
                    if pod_ready(state)
                    else 0.0
                )
                usage = self._pod(kubelet, state, share, load, now, interval, end, effect_of, out)
                if usage:
                    out.pod_usage[key] = usage
                    totals[0] += sum(u.cpu_cores for u in usage.values())
                    totals[1] += sum(u.memory_bytes for u in usage.values())
                self._ship_logs(state, now, out)
        self._nodes(nodes, node_use, end, out)
        self._health = {
            w: (ready[w], t[1] / t[0] if t[0] else 0.0, t[2] / t[0] if t[0] else 0.0)
            for w, t in self._tally.items()
        }
        self._tally = {}
        return out

    def _pod(self, kubelet: Kubelet, state: PodState, share: float, load: float, now: float,
             interval: float, end: str, effect_of: Callable[[PodState, ContainerState], Effect],
             out: Collected) -> dict[str, Usage]:  # fmt: skip
        metadata, _, pod_resource = self._meta(state)
        workload = (state.namespace, state.workload or state.name)
        tally = self._tally.setdefault(workload, [0.0, 0.0, 0.0])
        usage: dict[str, Usage] = {}
        now_iv = point_interval(end)
        pod_iv = point_interval(end, self._stamp(state.admitted_at))
        rx = tx = 0.0
        m = out.metrics
        for c in state.containers:
            if c.instance == 0:
                continue
            resource = self._resource(state, c.name)
            m.append(cumulative(K + "container/restart_count", resource, c.restart_count, pod_iv,
                                double=False, metadata=metadata))  # fmt: skip
            if c.cpu_limit:
                m.append(gauge(K + "container/cpu/limit_cores", resource, c.cpu_limit, now_iv,
                               double=True, metadata=metadata))  # fmt: skip
            if c.memory_limit:
                m.append(gauge(K + "container/memory/limit_bytes", resource, c.memory_limit, now_iv,
                               double=False, metadata=metadata))  # fmt: skip
            if c.phase != "running" or c.started_at is None:
                c.last_sample = None
                continue
            effect = effect_of(state, c)
            s = sample(c.profile, effect, load=load, share=share, cpu_limit=c.cpu_limit,
                       memory_leaked=c.leaked(now), rng=self.rng,
                       upstream=self._upstream(state.namespace, c.profile.dependencies))  # fmt: skip
            tally[0] += s.rps
            tally[1] += s.rps * s.error_rate
            tally[2] += s.rps * max(0.0, s.latency_p95_ms - c.profile.latency_ms)
            if c.memory_limit:
                s.memory_bytes = min(s.memory_bytes, c.memory_limit)
            elapsed = min(interval, c.uptime(now))
            c.cpu_seconds += s.cpu_cores * elapsed
            c.requests_total += s.rps * elapsed
            c.errors_total += s.rps * s.error_rate * elapsed
            c.last_sample = s
            if c.cpu_limit and kubelet.liveness(
                state, c, s.cpu_demand >= c.profile.liveness_timeout_at * c.cpu_limit, now
            ):
                out.resync.append(state.key)
            rx += s.rps * elapsed * REQUEST_BYTES
            tx += s.rps * elapsed * RESPONSE_BYTES
            usage[c.name] = Usage(s.cpu_cores, s.memory_bytes)
            since = point_interval(end, self._stamp(c.started_at))
            m.append(cumulative(K + "container/cpu/core_usage_time", resource, c.cpu_seconds, since,
                                double=True, metadata=metadata))  # fmt: skip
            m.append(gauge(K + "container/memory/used_bytes", resource, s.memory_bytes, now_iv,
                           double=False, labels=_NON_EVICTABLE, metadata=metadata))  # fmt: skip
            m.append(
                gauge(
                    K + "container/uptime",
                    resource,
                    c.uptime(now),
                    now_iv,
                    double=True,
                    metadata=metadata,
                )
            )
            if c.cpu_limit:
                m.append(gauge(K + "container/cpu/limit_utilization", resource, s.cpu_cores / c.cpu_limit,
                               now_iv, double=True, metadata=metadata))  # fmt: skip
            if c.memory_limit:
                m.append(gauge(K + "container/memory/limit_utilization", resource,
                               s.memory_bytes / c.memory_limit, now_iv, double=True,
                               labels=_NON_EVICTABLE, metadata=metadata))  # fmt: skip
            m.append(
                cumulative(W + "request_count", resource, c.requests_total, since, double=False)
            )
            m.append(cumulative(W + "error_count", resource, c.errors_total, since, double=False))
            m.append(gauge(W + "latency_p95_ms", resource, s.latency_p95_ms, now_iv, double=True))
            self._logs(kubelet, c, s.rps, s.error_rate, effect, now, elapsed)
        if usage:
            state.net_rx_bytes += rx
            state.net_tx_bytes += tx
            m.append(cumulative(K + "pod/network/received_bytes_count", pod_resource, state.net_rx_bytes, pod_iv, double=False, metadata=metadata))  # fmt: skip
            m.append(cumulative(K + "pod/network/sent_bytes_count", pod_resource, state.net_tx_bytes, pod_iv, double=False, metadata=metadata))  # fmt: skip
        return usage

    def _logs(self, kubelet: Kubelet, c: ContainerState, rps: float, error_rate: float,
              effect: Effect, now: float, elapsed: float) -> None:  # fmt: skip
        rng, profile = self.rng, c.profile
        lines = []
        for _ in range(count(rps * elapsed / profile.log_every, rng, 20)):
            lines.append(pick(profile.info, rng))
        for _ in range(count(rps * error_rate * elapsed, rng, 20)):
            lines.append(pick(profile.errors, rng))
        if effect.logs:
            for _ in range(count(effect.log_lines_per_minute * elapsed / 60.0, rng, 30)):
                lines.append(pick(effect.logs, rng))
        if not lines:
            return
        stamps = sorted(now - elapsed * rng.random() for _ in lines)
        for when, template in zip(stamps, lines, strict=True):
            kubelet.write(c, when, template.severity, render(template, profile, rng))

    def _ship_logs(self, state: PodState, now: float, out: Collected) -> None:
        _, labels, _ = self._meta(state)
        project = self.identity.project_id
        for c in state.containers:
            if not c.unshipped:
                continue
            resource = self._resource(state, c.name)
            for w in c.unshipped:
                severity = (
                    w.severity if w.structured else ("ERROR" if w.stream == "stderr" else "INFO")
                )
                out.logs.append(log_entry(
                    project, resource, stream=w.stream, severity=severity, message=w.message,
                    structured=w.structured, timestamp=w.timestamp, received=now,
                    insert_id=f"{self._prefix}{next(self._ids):012x}", labels=labels,
                ))  # fmt: skip
            c.unshipped.clear()

    def _nodes(
        self, nodes: list[Obj], use: dict[str, list[float]], end: str, out: Collected
    ) -> None:
        at = point_interval(end)
        for node in nodes:
            name = node["metadata"]["name"]
            resource = self.identity.node(name)
            ready = (get_condition(node, "Ready") or {}).get("status", "Unknown")
            out.metrics.append(gauge(K + "node/status_condition", resource, 1, at, double=False,
                                     labels={"condition": "Ready", "status": ready}))  # fmt: skip
            if name not in use:
                continue
            allocatable = node.get("status", {}).get("allocatable") or {}
            cpu, mem = use[name]
            out.node_usage[name] = Usage(cpu, int(mem))
            total_cpu = cpu_cores(allocatable.get("cpu")) or 1.0
            total_mem = memory_bytes(allocatable.get("memory")) or 1
            out.metrics.append(gauge(K + "node/cpu/allocatable_utilization", resource, cpu / total_cpu,
                                     at, double=True))  # fmt: skip
            out.metrics.append(gauge(K + "node/memory/allocatable_utilization", resource, mem / total_mem,
                                     at, double=True, labels=_NON_EVICTABLE))  # fmt: skip
