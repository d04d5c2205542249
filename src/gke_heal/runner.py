"""Runs a scenario on the local stack: warm up, train, inject faults, watch, report.

Every fact in the report comes from its source: detection from the alert policy's incidents
(monitoring), decisions and actions from the self-healing service's API and audit log, chat
from the chat sink, recovery from the cluster. The runner also plays the on-call human: with
`auto_approve` it approves pending actions through ChatOps' signed Slack command endpoint.
"""

from __future__ import annotations

import hashlib
import hmac
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from gke_heal.chatlog import message_text, platform_of
from gke_heal.datadir import fresh_data_dir
from gke_heal.health import busiest_node, node_ready, workload_health
from gke_heal.report import ChatLine, FaultOutcome, ScenarioReport
from gke_heal.scenario import FaultStep, Scenario
from gke_heal.stack import LocalStack, StackOptions

POLL_SECONDS = 10.0
LEAD_IN_WINDOWS = 3
ISSUE_OF_FAULT = {
    "memory_leak": "memory_leak",
    "cpu_saturation": "cpu_saturation",
    "crash_loop": "crash_loop",
    "bad_rollout": "bad_rollout",
    "error_burst": "error_burst",
    "node_not_ready": "node_failure",
    "unschedulable": "unschedulable",
    "dependency_latency": "latency_regression",
}


@dataclass
class Progress:
    """Callbacks a front end (rich progress, tests) gets while the scenario runs."""

    phase: Callable[[str], None] = lambda _: None
    tick: Callable[[float, float], None] = lambda done, total: None


@dataclass
class _Target:
    namespace: str | None
    name: str

    @property
    def is_node(self) -> bool:
        return self.namespace is None

    @property
    def workload(self) -> str:
        return self.name if self.namespace is None else f"{self.namespace}/{self.name}"


@dataclass
class _Watch:
    outcome: FaultOutcome
    target: _Target
    healthy_streak: int = 0
    healthy_since: float = 0.0
    cleared: bool = False
    cleared_at: float | None = None
    restarts_at_start: int | None = None
    approved: set[str] = field(default_factory=set)


class ScenarioRunner:
    """See the module docstring."""

    def __init__(
        self,
        scenario: Scenario,
        data_dir: Path,
        *,
        speed: float = 60.0,
        fault_speed: float | None = None,
        progress: Progress | None = None,
        stack_options: dict[str, Any] | None = None,
    ) -> None:
        self.scenario = scenario
        self.speed = speed
        # Faults run at this speed (warm-up and control at `speed`): the slower, the less
        # simulated time each wall-clock millisecond of real processing costs.
        self.fault_speed = fault_speed or speed
        self.progress = progress or Progress()
        fresh_data_dir(data_dir)
        self.stack = LocalStack(
            StackOptions(
                data_dir=data_dir,
                seed=scenario.seed,
                speed=speed,
                mode=scenario.mode,
                **(stack_options or {}),
            )
        )
        self.http = httpx.Client(timeout=15.0)
        self.model_version = "untrained"
        self._faulty: set[str] = set()  # resolved targets of the faults injected so far

    # -- top level -----------------------------------------------------------------------
    def run(self) -> ScenarioReport:
        wall0 = time.monotonic()
        stack = self.stack
        try:
            stack.start(on_progress=lambda what: self.progress.phase(f"starting {what}"))
            started = stack.clock.now()
            self.progress.phase("learning what normal looks like")
            self._wait(self.scenario.warmup_minutes * 60)
            # Training runs elsewhere in real life (Vertex AI): in here it would hog the CPU
            # while the virtual clock runs on, and the cluster's telemetry would starve.
            stack.clock.set_speed(1.0)
            self._train()
            outcomes: list[FaultOutcome] = []
            stack.clock.set_speed(self.fault_speed)
            # A few windows under the trained model before the first fault, as in real life.
            self._wait(LEAD_IN_WINDOWS * stack.options.window_seconds)
            for step in self.scenario.faults:
                self.progress.phase(f"fault: {step.kind} on {step.target}")
                outcomes.append(self._run_fault(step))
                self._wait(self.scenario.settle_minutes * 60)
            harmful = self._harmful_actions(started)
            stack.clock.set_speed(self.speed)
            if self.scenario.control_minutes:
                self.progress.phase("fault-free control period")
                control_from = stack.clock.now()
                self._wait(self.scenario.control_minutes * 60)
                harmful += [
                    f"{a['action']} on {a['target']} during fault-free control time; "
                    + self._why(a, control_from)
                    for a in self._actions()
                    if float(a.get("started_at") or 0) >= control_from
                ]
            self._attach_chat(outcomes)
            ended = stack.clock.now()
        finally:
            self.http.close()
            stack.stop()
        return ScenarioReport(
            self.scenario, started, ended, time.monotonic() - wall0, outcomes, harmful
        )

    # -- phases --------------------------------------------------------------------------
    def _wait(self, sim_seconds: float) -> None:
        end = self.stack.clock.now() + sim_seconds
        total = max(sim_seconds, 1.0)
        while (left := end - self.stack.clock.now()) > 0:
            self.stack.clock.sleep(min(POLL_SECONDS, left))
            self.progress.tick(total - max(0.0, end - self.stack.clock.now()), total)

    def _train(self) -> None:
        """Train on the warm-up's feature rows, register, and score with the new version."""
        from anomaly_detection_model.scoring import Scorer
        from anomaly_detection_model.train import TrainingError, train

        self.progress.phase("training the anomaly model on the warm-up period")
        rows = self.stack.warehouse.sql("SELECT * FROM telemetry.features")
        registry = str(self.stack.data_dir / "models")
        try:
            result = train(rows, registry, source="warm-up")
        except TrainingError as exc:
            self.progress.phase(f"training skipped ({exc}); scoring stays online-learnt")
            return
        self.model_version = result.version
        trained = Scorer.load(registry, result.version)

        def take_over(live: object) -> Scorer:
            # keep what each entity taught the live scorer during the warm-up
            return trained.adopt(live) if isinstance(live, Scorer) else trained

        self.stack.scorer.swap(take_over)

    def _resolve(self, step: FaultStep) -> _Target:
        ns, name = step.target.split("/", 1)
        if ns == "node":
            if name == "auto":
                name = busiest_node(self.stack.cluster)
            return _Target(None, name)
        return _Target(ns, name)

    def _run_fault(self, step: FaultStep) -> FaultOutcome:
        stack = self.stack
        target = self._resolve(step)
        self._faulty.add(target.workload)
        injected = stack.clock.now()
        stack.cluster.inject(step.kind, target.namespace, target.name, dict(step.params) or None)
        outcome = FaultOutcome(step=step, injected_at=injected)
        outcome.alerts_open_at_injection = self._open_alerts(target.workload)
        outcome.signal_name = _signal_name(step.kind)
        watch = _Watch(outcome, target)
        end = injected + step.duration_minutes * 60
        clear_at = injected + (step.clear_after_minutes or step.duration_minutes) * 60
        while stack.clock.now() < end:
            stack.clock.sleep(POLL_SECONDS)
            now = stack.clock.now()
            self.progress.tick(now - injected, end - injected)
            self._observe(watch, now)
            if not watch.cleared and now >= clear_at:
                stack.cluster.clear(target.namespace, target.name, node=target.is_node)
                watch.cleared, watch.cleared_at = True, now
            if outcome.recovered_at is not None:
                break  # healed: the step ends early, and the fault is cleared below
        if not watch.cleared:
            stack.cluster.clear(target.namespace, target.name, node=target.is_node)
        self._conclude(watch)
        return outcome

    # -- observation ---------------------------------------------------------------------
    def _observe(self, watch: _Watch, now: float) -> None:
        outcome, target = watch.outcome, watch.target
        signal, healthy, ooms = self._health(watch)
        outcome.signal.append((now, signal))
        if not healthy:
            outcome.unhealthy_seconds += POLL_SECONDS
        restarts = self._restarts(watch)
        if watch.restarts_at_start is None:
            watch.restarts_at_start = restarts
        outcome.restarts_during = max(outcome.restarts_during, restarts - watch.restarts_at_start)
        if outcome.detected_at is None:
            alert = self._first_alert(target.workload, outcome.injected_at)
            if alert is not None:
                outcome.detected_at = float(alert["started_at"])
                outcome.issue = alert["issue"]
        incidents = self._healing_incidents_for(target.workload, outcome.injected_at)
        if incidents:
            self._read_decisions(outcome, incidents)
            if self.scenario.auto_approve:
                self._approve_pending(watch, incidents)
        if outcome.action_at is None:
            outcome.oom_kills_before_action = ooms
        acted = outcome.action_at is not None and now >= outcome.action_at
        if outcome.recovered_at is None and acted:
            watch.healthy_streak = watch.healthy_streak + 1 if healthy else 0
            if watch.healthy_streak == 1:
                watch.healthy_since = now
            if watch.healthy_streak >= 2:
                # Recovered when it became healthy; the next poll only confirmed it stayed so.
                outcome.recovered_at = watch.healthy_since

    def _health(self, watch: _Watch) -> tuple[float, bool, int]:
        """(the chart's signal, healthy or not, OOM kills seen) for the fault's target."""
        kind, target = watch.outcome.step.kind, watch.target
        cluster = self.stack.cluster
        if target.is_node:
            ready = node_ready(cluster, target.name)
            node = cluster.store.get("nodes", None, target.name)
            moved = bool(node.get("spec", {}).get("unschedulable"))
            return (1.0 if ready else 0.0), (ready or moved), 0
        assert target.namespace is not None
        h = workload_health(cluster, target.namespace, target.name)
        if kind == "memory_leak":
            return h.memory_utilisation, h.all_ready and h.memory_utilisation < 0.6, h.oom_kills
        if kind == "cpu_saturation":
            return h.cpu_utilisation, h.all_ready and h.cpu_utilisation < 0.85, h.oom_kills
        ready_share = h.ready / h.replicas if h.replicas else 0.0
        return ready_share, h.all_ready, h.oom_kills

    def _restarts(self, watch: _Watch) -> int:
        target = watch.target
        if target.namespace is None:
            return 0
        return workload_health(self.stack.cluster, target.namespace, target.name).restarts

    def _open_alerts(self, workload: str) -> list[str]:
        """The alert policies with an incident open on `workload` now."""
        return sorted(
            {
                incident.policy.name
                for incident in self.stack.monitoring.incidents("open")
                if workload
                in (
                    incident.series.metric_labels.get("workload"),
                    incident.series.resource_labels.get("node_name"),
                )
            }
        )

    def _first_alert(self, workload: str, since: float) -> dict[str, Any] | None:
        found: dict[str, Any] | None = None
        for incident in self.stack.monitoring.incidents("all"):
            payload = self.stack.monitoring.payload(incident)["incident"]
            labels = payload.get("metric", {}).get("labels", {})
            node = payload.get("resource", {}).get("labels", {}).get("node_name")
            if labels.get("workload") != workload and node != workload:
                continue
            started = float(payload.get("started_at") or 0)
            if started < since - 1:
                continue
            if found is None or started < float(found["started_at"]):
                issue = payload.get("policy_user_labels", {}).get("issue", "")
                found = {"started_at": started, "issue": issue, "id": payload["incident_id"]}
        return found

    # -- the self-healing service's API (contracts §7) -------------------------------------
    def _api(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http.request(
            method,
            f"{self.stack.urls.healing}{path}",
            headers={"Authorization": f"Bearer {self.stack.tokens['api']}"},
            **kwargs,
        )
        response.raise_for_status()
        return response.json()

    def _healing_incidents(self) -> list[dict[str, Any]]:
        data = self._api("GET", "/api/v1/incidents", params={"state": "all"})
        return list(data["incidents"] if isinstance(data, dict) else data)

    def _healing_incidents_for(self, workload: str, since: float) -> list[dict[str, Any]]:
        """The service's incidents about `workload` opened since `since`, oldest first."""
        return sorted(
            (
                i
                for i in self._healing_incidents()
                if i.get("workload") == workload and float(i.get("opened_at") or 0) >= since - 1
            ),
            key=lambda i: float(i.get("opened_at") or 0),
        )

    def _actions(self) -> list[dict[str, Any]]:
        actions: list[dict[str, Any]] = []
        for incident in self._healing_incidents():
            detail = self._api("GET", f"/api/v1/incidents/{incident['id']}")
            decisions = [r for r in detail.get("audit", []) if r.get("kind") == "decision"]
            before = decisions[0].get("data", {}).get("before") if decisions else None
            actions += [
                {
                    **a,
                    "target": incident.get("workload"),
                    "issue": incident.get("issue"),
                    "incident_id": incident.get("id"),
                    "before": before,
                }
                for a in detail.get("actions", [])
                if a.get("status") in ("done", "succeeded", "applied")
            ]
        return actions

    @staticmethod
    def _why(action: dict[str, Any], since: float) -> str:
        """Which alert led to a needless action, and when: the lead to follow up."""
        minutes = (float(action.get("started_at") or since) - since) / 60
        return (
            f"incident {action.get('incident_id')} ({action.get('issue')}), "
            f"{minutes:.0f} min in, before: {action.get('before')}"
        )

    def _read_decisions(self, outcome: FaultOutcome, incidents: list[dict[str, Any]]) -> None:
        """The incident that acted (else the first one) speaks for the fault."""
        details = [self._api("GET", f"/api/v1/incidents/{i['id']}") for i in incidents]
        acting = next((d for d in details if d.get("actions")), details[0])
        outcome.incident_id = str(acting["id"])
        decisions = [r for r in acting.get("audit", []) if r.get("kind") == "decision"]
        if decisions:
            first = decisions[0]["data"]
            outcome.decision = str(first.get("outcome") or "")
            outcome.reasons = [str(r) for r in first.get("reasons", [])]
        skipped = sum(
            1 for d in details if d is not acting and d.get("status") in ("skipped", "duplicate")
        )
        if skipped:
            outcome.reasons.append(
                f"{skipped} more alerts on this workload held back by guardrails"
            )
        done = [a for a in acting.get("actions", []) if a.get("status") == "done"]
        if done and outcome.action_at is None:
            outcome.action = str(done[0]["action"])
            outcome.action_at = float(done[0].get("finished_at") or done[0]["started_at"])
        elif acting.get("actions"):
            outcome.action = outcome.action or str(acting["actions"][0]["action"])
        if acting.get("status") == "escalated":
            outcome.outcome = "escalated"

    def _approve_pending(self, watch: _Watch, incidents: list[dict[str, Any]]) -> None:
        """Approve like an on-call engineer would: `/heal approve ID` in Slack, signed."""
        for incident in incidents:
            incident_id = str(incident["id"])
            if incident.get("status") != "waiting" or incident_id in watch.approved:
                continue
            audit = self._api("GET", f"/api/v1/incidents/{incident_id}").get("audit", [])
            asked = any(
                r.get("kind") == "decision" and r["data"].get("outcome") == "await_approval"
                for r in audit
            )
            if not asked:
                continue
            self._slack_approve(incident_id)
            watch.approved.add(incident_id)

    def _slack_approve(self, incident_id: str) -> None:
        body = urllib.parse.urlencode(
            {
                "command": "/heal",
                "text": f"approve {incident_id}",
                "user_id": "U0ONCALL",
                "user_name": "on-call",
                "channel_id": "C0SREALERTS",
                "response_url": f"{self.stack.urls.chat_sink}/slack/responses/demo",
            }
        )
        stamp = str(int(time.time()))
        digest = hmac.new(
            self.stack.signing_secret.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256
        ).hexdigest()
        self.http.post(
            f"{self.stack.urls.chatops}/slack/commands",
            content=body,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Slack-Request-Timestamp": stamp,
                "X-Slack-Signature": f"v0={digest}",
            },
        )

    # -- conclusions ---------------------------------------------------------------------
    def _conclude(self, watch: _Watch) -> None:
        o = watch.outcome
        expect = o.step.expect
        if o.detected_at is None:
            o.outcome = "missed"
            if o.alerts_open_at_injection:
                o.reasons.append(
                    "alert already open on the target at injection: "
                    + ", ".join(o.alerts_open_at_injection)
                )
        elif (
            o.recovered_at is not None
            and o.action_at is not None
            and (watch.cleared_at is None or o.recovered_at <= watch.cleared_at)
        ):
            o.outcome = "healed"
        elif o.outcome not in ("escalated",):
            o.outcome = "escalated" if o.incident_id else "detected"
        fails = o.failed_expectations

        def minutes(at: float) -> float:
            return (at - o.injected_at) / 60

        if expect.detected_within_minutes is not None and (
            o.detected_at is None or minutes(o.detected_at) > expect.detected_within_minutes
        ):
            fails.append(f"not detected within {expect.detected_within_minutes:g} min")
        if expect.issue is not None and o.issue != expect.issue:
            fails.append(f"issue named {o.issue!r}, expected {expect.issue!r}")
        if expect.action is not None and o.action != expect.action:
            fails.append(f"action {o.action!r}, expected {expect.action!r}")
        if expect.recovered_within_minutes is not None and (
            o.recovered_at is None or minutes(o.recovered_at) > expect.recovered_within_minutes
        ):
            fails.append(f"not recovered within {expect.recovered_within_minutes:g} min")
        if expect.outcome != "any" and o.outcome != expect.outcome:
            fails.append(f"outcome {o.outcome}, expected {expect.outcome}")

    def _harmful_actions(self, since: float) -> list[str]:
        return [
            f"{a['action']} on {a['target']}, which had no fault; " + self._why(a, since)
            for a in self._actions()
            if a.get("target") not in self._faulty and float(a.get("started_at") or 0) >= since
        ]

    def _attach_chat(self, outcomes: list[FaultOutcome]) -> None:
        try:
            messages = self.http.get(f"{self.stack.urls.chat_sink}/_sink/messages").json()
        except (httpx.HTTPError, ValueError):
            return
        for o in outcomes:
            if not o.incident_id:
                continue
            for m in messages:
                if o.incident_id in str(m.get("body")) and not m.get("thread_ts"):
                    o.chat.append(ChatLine(0.0, platform_of(m), message_text(m)))


def _signal_name(kind: str) -> str:
    return {
        "memory_leak": "memory used / limit (highest pod)",
        "cpu_saturation": "CPU used / limit (highest pod)",
        "node_not_ready": "node Ready",
    }.get(kind, "share of pods ready")
