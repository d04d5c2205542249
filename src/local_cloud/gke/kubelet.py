"""A kubelet per node: starts containers, runs their probes, restarts them with back-off.

Container lifecycles are planned ahead from the workload's effect (a crash `after_seconds`
after start, an OOM kill when a leak reaches the limit, readiness after the probe's delay),
so the cluster only wakes a pod when something is due instead of polling every pod each
second. Back-off follows the kubelet's: 10 s, doubling to 5 min, reset after 10 min running.
"""

from __future__ import annotations

import json
import random
from collections import deque
from collections.abc import Callable
from typing import Any

from local_cloud.clock import rfc3339
from local_cloud.gke.containers import (
    BACKOFF_RESET_AFTER,
    INITIAL_BACKOFF,
    LOG_LINES_KEPT,
    MAX_BACKOFF,
    ContainerState,
    PodState,
    Written,
)
from local_cloud.gke.events import EventRecorder
from local_cloud.gke.faults import Effect, LogTemplate
from local_cloud.gke.objects import controller_of
from local_cloud.gke.quantity import cpu_cores, memory_bytes
from local_cloud.gke.runtime import LogLine
from local_cloud.gke.workload import profile_for, render

Obj = dict[str, Any]
EffectOf = Callable[[PodState, ContainerState], Effect]
_ERROR_SEVERITIES = ("ERROR", "CRITICAL", "ALERT", "EMERGENCY")


def _pod_ref(state: PodState) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": state.name, "namespace": state.namespace, "uid": state.uid},
    }


class Kubelet:
    """The node agent of one node: owns the pods bound to it."""

    def __init__(
        self, node: str, host_ip: str, pod_subnet: int, recorder: EventRecorder, seed: int
    ) -> None:
        self.node = node
        self.host_ip = host_ip
        self.alive = True
        self.pods: dict[tuple[str, str], PodState] = {}
        self._recorder = recorder
        self._rng = random.Random(seed)
        self._subnet = pod_subnet
        self._next_ip = 2

    # -- events and logs -------------------------------------------------------------------
    def _event(self, state: PodState, c: ContainerState | None, reason: str, message: str,
               warning: bool = False) -> None:  # fmt: skip
        self._recorder.record(
            _pod_ref(state), reason, message,
            type_="Warning" if warning else "Normal", component="kubelet", host=self.node,
            field_path=f"spec.containers{{{c.name}}}" if c else None,
        )  # fmt: skip

    def write(self, c: ContainerState, now: float, severity: str, message: str) -> None:
        """A line the container prints: JSON for structured services, else plain text."""
        if c.profile.structured:
            text = json.dumps({"severity": severity, "message": message, "time": rfc3339(now)})
            stream = "stdout"
        else:
            text = f"{rfc3339(now)} {severity} {message}"
            stream = "stderr" if severity in _ERROR_SEVERITIES else "stdout"
        c.logs.append(LogLine(now, text, stream))
        c.unshipped.append(Written(now, stream, severity, message, c.profile.structured))

    def write_template(self, c: ContainerState, now: float, template: LogTemplate) -> None:
        self.write(c, now, template.severity, render(template, c.profile, self._rng))

    # -- lifecycle -------------------------------------------------------------------------
    def admit(self, pod: Obj, workload: str | None, now: float) -> PodState:
        """Take a newly bound pod: sandbox, IP, and containers about to be created."""
        meta, spec = pod["metadata"], pod.get("spec", {})
        annotations = meta.get("annotations") or {}
        containers = []
        for spec_c in spec.get("containers") or []:
            limits = (spec_c.get("resources") or {}).get("limits") or {}
            image = str(spec_c.get("image", ""))
            probe = spec_c.get("readinessProbe") or {}
            profile = profile_for(image, spec_c.get("name", ""), annotations)
            delay = float(probe.get("initialDelaySeconds", 0)) + profile.startup_seconds
            digest = f"{self._rng.getrandbits(128):032x}{self._rng.getrandbits(128):032x}"
            c = ContainerState(
                name=spec_c.get("name", ""),
                image=image,
                image_id=f"{image.split(':', 1)[0]}@sha256:{digest}",
                profile=profile,
                cpu_limit=cpu_cores(limits.get("cpu")) or None,
                memory_limit=memory_bytes(limits.get("memory")) or None,
                readiness_delay=delay,
                probe_period=float(probe.get("periodSeconds", 10)),
            )
            liveness = spec_c.get("livenessProbe") or {}
            if liveness:
                c.liveness_period = float(liveness.get("periodSeconds", 10))
                c.liveness_threshold = int(liveness.get("failureThreshold", 3))
                http = liveness.get("httpGet") or {}
                c.liveness_target = f":{http.get('port', 8080)}{http.get('path', '/')}"
            c.start_at = now + 0.5 + self._rng.random() * 2.0  # image pull and create
            containers.append(c)
        owner = controller_of(pod)
        state = PodState(
            namespace=meta.get("namespace", "default"), name=meta["name"], uid=meta.get("uid", ""),
            node=self.node, workload=workload,
            controller_kind=owner["kind"] if owner else "",
            labels=dict(meta.get("labels") or {}), containers=containers, admitted_at=now,
            ip=f"10.{64 + self._subnet // 256}.{self._subnet % 256}.{self._next_ip}",
            host_ip=self.host_ip,
            qos_class=pod.get("status", {}).get("qosClass", "BestEffort"),
        )  # fmt: skip
        self._next_ip = self._next_ip % 250 + 1
        self.pods[state.key] = state
        return state

    def _start(self, state: PodState, c: ContainerState, effect: Effect, now: float) -> None:
        first = c.instance == 0
        c.instance += 1
        c.phase = "running"
        c.started_at = now
        c.container_id = (
            f"containerd://{self._rng.getrandbits(128):032x}{self._rng.getrandbits(128):032x}"
        )
        c.ready = False
        c.unready_at = None
        c.ready_at = None if effect.readiness_fails else now + c.readiness_delay
        c.next_unhealthy_event = now + c.readiness_delay if effect.readiness_fails else 0.0
        c.exit_at = None
        c.cpu_seconds = c.requests_total = c.errors_total = 0.0
        self._plan(c, effect, now)
        if first:
            self._event(state, c, "Pulling", f'Pulling image "{c.image}"')
            took = 0.4 + self._rng.random() * 1.5
            self._event(state, c, "Pulled",
                        f'Successfully pulled image "{c.image}" in {took:.3f}s ({took:.3f}s including waiting)')  # fmt: skip
        else:
            self._event(
                state, c, "Pulled", f'Container image "{c.image}" already present on machine'
            )
        self._event(state, c, "Created", f"Created container: {c.name}")
        self._event(state, c, "Started", f"Started container {c.name}")
        self.write(c, now, "INFO", f"starting {c.profile.name} ({c.image}) on :8080")
        self.write(c, now, "INFO", "listening on 0.0.0.0:8080")

    def _plan(self, c: ContainerState, effect: Effect, now: float) -> None:
        """(Re)plan a running container's crash and OOM kill for the effect now in force."""
        if effect.exit_after_seconds is not None:
            planned = (c.started_at or now) + effect.exit_after_seconds
            if c.exit_reason != "Error" or c.exit_at is None:
                c.exit_at, c.exit_reason, c.exit_code = max(planned, now), "Error", 1
        elif effect.leak_seconds_to_limit is not None:
            if c.leak_since is None:
                c.leak_since = now
                if c.memory_limit:
                    base = c.profile.memory_base + (c.last_sample.memory_bytes - c.profile.memory_base
                                                    if c.last_sample else 0)  # fmt: skip
                    room = max(c.memory_limit - min(base, c.memory_limit * 0.6), 1.0)
                    c.leak_rate = room / effect.leak_seconds_to_limit
                    c.exit_at, c.exit_reason, c.exit_code = (
                        now + effect.leak_seconds_to_limit,
                        "OOMKilled",
                        137,
                    )
                else:
                    c.leak_rate = float(effect.leak_bytes_per_second or 0.0)
        else:
            c.exit_at, c.exit_reason, c.liveness_kill = None, "", False
        if effect.leak_seconds_to_limit is None:
            c.leak_since, c.leak_rate = None, 0.0  # the fix is in: leaked memory is released

    def refresh(self, state: PodState, effect_of: EffectOf, now: float) -> None:
        """The effect on this pod changed (fault annotated or removed): replan its containers."""
        for c in state.containers:
            if c.phase != "running":
                continue
            effect = effect_of(state, c)
            self._plan(c, effect, now)
            if effect.readiness_fails and (c.ready or c.ready_at is not None):
                c.ready_at = None
                c.unready_at = now + c.probe_period * 3
                c.next_unhealthy_event = now + c.probe_period
            elif not effect.readiness_fails and not c.ready and c.ready_at is None:
                c.ready_at, c.unready_at = now + c.probe_period, None

    def liveness(self, state: PodState, c: ContainerState, failing: bool, now: float) -> bool:
        """The liveness probe fails (or passes again); True when a kill was planned or called off."""
        if not c.liveness_period or c.phase != "running":
            return False
        if failing and c.exit_at is None:
            self._event(state, c, "Unhealthy",
                        f'Liveness probe failed: Get "http://{state.ip}{c.liveness_target}": context '
                        "deadline exceeded (Client.Timeout exceeded while awaiting headers)",
                        warning=True)  # fmt: skip
            c.exit_at = now + c.liveness_period * max(c.liveness_threshold - 1, 0)
            c.exit_reason, c.exit_code, c.liveness_kill = "Error", 137, True
            return True
        if not failing and c.liveness_kill:
            c.exit_at, c.exit_reason, c.liveness_kill = None, "", False
            return True
        return False

    def _terminate(self, state: PodState, c: ContainerState, now: float) -> None:
        if c.liveness_kill:
            self._event(
                state, c, "Killing", f"Container {c.name} failed liveness probe, will be restarted"
            )
            c.liveness_kill = False
        reason, code = c.exit_reason or "Error", c.exit_code or 1
        started = c.started_at or now
        c.last_terminated = {
            "exitCode": code, "reason": reason,
            "startedAt": rfc3339(started), "finishedAt": rfc3339(now),
            "containerID": c.container_id,
        }  # fmt: skip
        if reason == "OOMKilled":
            self._recorder.record(
                {"apiVersion": "v1", "kind": "Node", "metadata": {"name": self.node, "uid": self.node}},
                "OOMKilling",
                f"Memory cgroup out of memory: Killed process {self._rng.randint(1000, 60000)} "
                f"({c.profile.name}) total-vm:{(c.memory_limit or 0) // 1024 + 90000}kB, "
                f"anon-rss:{(c.memory_limit or 0) // 1024}kB, file-rss:0kB, shmem-rss:0kB, UID:0 "
                f"pgtables:2480kB oom_score_adj:{984 if state.qos_class == 'Burstable' else -997}",
                type_="Warning", component="kernel-monitor", host=self.node,
            )  # fmt: skip
        ran = now - started
        c.backoff = (
            INITIAL_BACKOFF
            if ran >= BACKOFF_RESET_AFTER or c.backoff == 0
            else min(c.backoff * 2, MAX_BACKOFF)
        )
        c.restart_count += 1
        c.previous_logs, c.logs = c.logs, deque(maxlen=LOG_LINES_KEPT)
        c.phase, c.ready, c.ready_at, c.unready_at = "backoff", False, None, None
        c.start_at = now + c.backoff
        c.exit_at, c.exit_reason, c.leak_since, c.leak_rate = None, "", None, 0.0
        c.last_sample = None
        self._event(state, c, "BackOff",
                    f"Back-off restarting failed container {c.name} in pod "
                    f"{state.name}_{state.namespace}({state.uid})", warning=True)  # fmt: skip

    def sync(self, state: PodState, effect_of: EffectOf, now: float) -> bool:
        """Do whatever is due for this pod at `now`; True when its status changed."""
        if not self.alive:
            return False
        changed = False
        if state.deleting:
            if state.stop_at is not None and now >= state.stop_at:
                for c in state.containers:
                    if c.phase == "running":
                        c.terminated_state = {
                            "exitCode": 0, "reason": "Completed",
                            "startedAt": rfc3339(c.started_at or now), "finishedAt": rfc3339(now),
                            "containerID": c.container_id,
                        }  # fmt: skip
                    c.phase, c.ready = "terminated", False
                return True
            return False
        for c in state.containers:
            if c.phase in ("creating", "backoff") and now >= c.start_at:
                self._start(state, c, effect_of(state, c), now)
                changed = True
            if c.phase != "running":
                continue
            if c.exit_at is not None and now >= c.exit_at:
                if c.exit_reason != "OOMKilled":
                    for template in effect_of(state, c).exit_logs:
                        self.write_template(c, now, template)
                self._terminate(state, c, now)
                changed = True
                continue
            if c.ready_at is not None and now >= c.ready_at:
                c.ready, c.ready_at = True, None
                changed = True
            if c.unready_at is not None and now >= c.unready_at:
                c.ready, c.unready_at = False, None
                changed = True
            if (
                not c.ready
                and c.ready_at is None
                and c.next_unhealthy_event
                and now >= c.next_unhealthy_event
            ):
                self._event(state, c, "Unhealthy",
                            "Readiness probe failed: HTTP probe failed with statuscode: 503",
                            warning=True)  # fmt: skip
                c.next_unhealthy_event = now + c.probe_period
        return changed

    def begin_termination(self, state: PodState, grace: float, now: float) -> None:
        """deletionTimestamp is set: stop the containers (SIGTERM), done within the grace period."""
        if state.deleting:
            return
        state.deleting = True
        for c in state.containers:
            if c.phase == "running":
                self._event(state, c, "Killing", f"Stopping container {c.name}")
        state.stop_at = now + min(max(grace, 0.0), 0.5 + self._rng.random() * 1.5)

    def forget(self, key: tuple[str, str]) -> None:
        self.pods.pop(key, None)
