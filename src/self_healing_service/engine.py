"""The healer: intake → diagnose → decide → dry run → reserve → act → verify → next rung or
hand over, recording every step. Safe to run in several processes over one store: a lease
gives one of them the incident, and the store reserves budgets transactionally."""

from __future__ import annotations

import logging
import uuid
from dataclasses import asdict, dataclass, replace
from typing import Any

from self_healing_service.actions.catalogue import DrainFailed, catalogue
from self_healing_service.clock import Clock
from self_healing_service.decision import Decision, PlannedAction, decide
from self_healing_service.diagnosis import gather
from self_healing_service.guardrails import Limits
from self_healing_service.incidents import Incident, from_record
from self_healing_service.kube import ClusterApi, KubeError
from self_healing_service.notifications import notification
from self_healing_service.policy import Policy
from self_healing_service.settings import Settings
from self_healing_service.store.base import NoticeResult, Refused, Store
from self_healing_service.verification import Health, judge
from self_healing_service.view import ClusterView

log = logging.getLogger(__name__)
POSTPONE_SECONDS = 30.0


def limits_of(settings: Settings) -> Limits:
    return Limits(
        allowed_namespaces=tuple(settings.allowed_namespaces),
        allow_kube_system=settings.allow_kube_system,
        excluded_namespaces=tuple(settings.excluded_namespaces),
        label_selector=settings.label_selector,
        approval_actions=tuple(settings.approval_actions),
        cooldown_seconds=settings.cooldown_seconds,
        target_actions_per_hour=settings.target_actions_per_hour,
        global_actions_per_hour=settings.global_actions_per_hour,
        max_workload_share=settings.max_workload_share,
        max_node_pool_share=settings.max_node_pool_share,
        max_not_ready_share=settings.max_not_ready_share,
        breaker_failures=settings.breaker_failures,
        recent_rollout_seconds=settings.recent_rollout_seconds,
        max_scale_replicas=settings.max_scale_replicas,
    )


@dataclass
class Counters:
    """What /metrics reports; the app wires them to Prometheus."""

    def inc(self, name: str, **labels: str) -> None:  # replaced by the app
        return None


class Healer:
    def __init__(
        self,
        settings: Settings,
        api: ClusterApi,
        store: Store,
        clock: Clock,
        policy: Policy | None = None,
        counters: Counters | None = None,
        owner: str | None = None,
    ) -> None:
        self.settings = settings
        self.api = api
        self.store = store
        self.clock = clock
        self.policy = policy or Policy()
        self.limits = limits_of(settings)
        self.counters = counters or Counters()
        self.owner = owner or uuid.uuid4().hex[:12]
        self.actions = catalogue(settings.drain_deadline_seconds)

    # recording ----------------------------------------------------------------------------
    def mode(self) -> str:
        return self.store.control(self.settings.mode)[0]

    def _audit(self, incident: Incident, kind: str, **data: Any) -> None:
        self.store.audit(incident.id, incident.workload, kind, data, self.clock.now())

    def _notify(self, kind: str, incident: Incident, summary: str, **extra: Any) -> None:
        body = notification(
            kind,
            incident,
            now=self.clock.now(),
            cluster=self.settings.cluster_name,
            mode=self.mode(),
            summary=summary,
            base_url=self.settings.public_url,
            **extra,
        )
        self.store.enqueue(incident.id, body, self.clock.now())

    # intake -------------------------------------------------------------------------------
    def intake(self, incident: Incident) -> NoticeResult:
        """Persist the notice, its audit record and its announcement in one transaction,
        before the notice is acknowledged; say what it meant."""
        now, mode = self.clock.now(), self.mode()

        def announce(result: NoticeResult) -> dict[str, Any] | None:
            if result not in ("new", "closed"):
                return None
            kind = "incident_opened" if result == "new" else "closed"
            summary = (
                f"{incident.issue} on {incident.workload}"
                if result == "new"
                else f"alert closed for {incident.workload}"
            )
            return notification(
                kind, incident, now=now, cluster=self.settings.cluster_name, mode=mode,
                summary=summary, base_url=self.settings.public_url,
            )  # fmt: skip

        audit = {
            "state": incident.state, "source": incident.source, "observed": incident.observed,
            "threshold": incident.threshold,
        }  # fmt: skip
        result = self.store.record_notice(incident, now, audit=audit, notify=announce)
        self.counters.inc("notices", source=incident.source, result=result)
        return result

    # processing ---------------------------------------------------------------------------
    def process(self, incident_id: str) -> str | None:
        """Work on one incident if this replica wins its lease; returns the status left."""
        now = self.clock.now()
        if not self.store.acquire(incident_id, self.owner, now, self.settings.lease_seconds):
            return None
        status, next_at = "escalated", 0.0
        try:
            record = self.store.incident(incident_id)
            assert record is not None
            status, next_at = self._work(from_record(_incident_fields(record)), record)
        except Exception as error:  # a bug must not wedge the incident: hand it to a human
            log.exception("processing %s failed", incident_id)
            incident = from_record(_incident_fields(self.store.incident(incident_id) or {}))
            self._audit(incident, "error", error=f"{type(error).__name__}: {error}")
            self._notify("escalated", incident, "internal error; a human should look")
        finally:
            self.store.release(incident_id, self.owner, status, self.clock.now(), next_at)
        return status

    def _work(self, incident: Incident, record: dict[str, Any]) -> tuple[str, float]:
        rung = int(record.get("rung") or 0)
        if record["status"] in ("acting", "verifying"):
            resumed = self._resume(incident, rung)
            if resumed is not None:
                return resumed
        while True:
            now = self.clock.now()
            # A scale-out is sized by the pods' measured CPU, so read it for saturation.
            view = gather(self.api, incident, now, usage=incident.issue == "cpu_saturation")
            history = self.store.history(incident, now, self.settings.mode)
            if record["state"] == "closed" or self._closed(incident):
                incident = _closed(incident)
            decision = decide(incident, view, history, now, self.policy, self.limits)
            self.counters.inc("decisions", outcome=decision.outcome)
            self._audit(
                incident, "decision", outcome=decision.outcome, rung=decision.rung,
                stage=decision.stage, reasons=list(decision.reasons),
                action=decision.action.describe() if decision.action else None,
                before=view.summary(), events=list(view.events), logs=list(view.logs),
            )  # fmt: skip
            done = self._follow(incident, decision, view)
            if done is not None:
                return done

    def _follow(
        self, incident: Incident, decision: Decision, view: ClusterView
    ) -> tuple[str, float] | None:
        now, reasons = self.clock.now(), decision.reasons
        outcome = decision.outcome
        if outcome == "close":
            return "closed", 0.0
        if outcome == "notify_only":
            self._notify(
                "action_planned" if decision.action else "escalated", incident,
                "; ".join(reasons), action=decision.action, reasons=reasons,
                before=view.summary(),
            )  # fmt: skip
            return "notified", 0.0
        if outcome == "postpone":
            return "waiting", now + POSTPONE_SECONDS
        if outcome == "await_approval":
            assert decision.action is not None
            approval, new = self.store.request_approval(
                incident.id, decision.rung, decision.action.name, now,
                self.settings.approval_ttl_seconds,
            )  # fmt: skip
            if new:
                self._notify(
                    "approval_requested", incident, f"approve {decision.action.describe()}?",
                    action=decision.action, reasons=reasons, approval=approval,
                    before=view.summary(),
                )  # fmt: skip
            return "waiting", approval.expires_at
        if outcome in ("skip", "escalate"):
            self._notify("escalated", incident, "; ".join(reasons), reasons=reasons)
            return ("skipped" if outcome == "skip" else "escalated"), 0.0
        assert decision.action is not None
        return self._act(incident, decision.rung, decision.action, view)

    def _closed(self, incident: Incident) -> bool:
        record = self.store.incident(incident.id)
        return record is not None and record["state"] == "closed"

    # acting -------------------------------------------------------------------------------
    def _act(
        self, incident: Incident, rung: int, planned: PlannedAction, view: ClusterView
    ) -> tuple[str, float] | None:
        marker = f"{incident.id}/{rung}"
        action = self.actions[planned.name]
        try:
            plan = action.execute(self.api, planned, marker, dry_run=True)
        except KubeError as error:
            return self._failed(incident, rung, planned, f"dry run refused: {error}", False)
        self._audit(incident, "plan", rung=rung, action=planned.describe(), plan=plan.plan)
        self._notify(
            "action_planned", incident, f"plan: {planned.describe()}", action=planned,
            dry_run="ok", before=view.summary(),
        )  # fmt: skip
        pool = view.node.pool if view.node else ""
        reserved = self.store.reserve_action(
            incident, rung, asdict(planned), pool, self.clock.now(), self.limits
        )
        if isinstance(reserved, Refused):
            self._audit(
                incident, "decision", outcome="skip", stage="budget", reasons=[reserved.reason]
            )
            self._notify("escalated", incident, reserved.reason, reasons=(reserved.reason,))
            return "skipped", 0.0
        self._audit(incident, "action_started", rung=rung, action=planned.describe(), marker=marker)
        return self._execute(incident, rung, planned, view)

    def _execute(
        self, incident: Incident, rung: int, planned: PlannedAction, before: ClusterView
    ) -> tuple[str, float] | None:
        marker = f"{incident.id}/{rung}"
        action = self.actions[planned.name]
        current = gather(self.api, incident, self.clock.now(), details=False)
        if action.applied(current, planned, marker):
            self._audit(incident, "action_skipped", rung=rung, reason="already applied (marker)")
        else:
            try:
                result = action.execute(self.api, planned, marker, dry_run=False)
            except (KubeError, DrainFailed) as error:
                return self._failed(incident, rung, planned, str(error), True)
            self.counters.inc("actions", action=planned.name)
            self._audit(incident, "action_done", rung=rung, action=planned.describe(),
                        request=result.plan, detail=result.detail)  # fmt: skip
        self.store.finish_action(incident.id, rung, "done", self.clock.now())
        self._notify(
            "action_taken", incident, f"done: {planned.describe()}", action=planned,
            action_status="done", before=before.summary(),
        )  # fmt: skip
        return self._verify(incident, rung, planned, before)

    def _failed(
        self, incident: Incident, rung: int, planned: PlannedAction, why: str, started: bool
    ) -> tuple[str, float]:
        now = self.clock.now()
        if started:
            self.store.finish_action(incident.id, rung, "failed", now)
        self.store.record_outcome(incident.id, "failed", now)
        self._audit(incident, "action_failed", rung=rung, action=planned.describe(), error=why)
        self._notify(
            "escalated", incident, f"{planned.describe()} failed: {why}", action=planned,
            action_status="failed", reasons=(why,),
        )  # fmt: skip
        return "escalated", 0.0

    def _verify(
        self, incident: Incident, rung: int, planned: PlannedAction, before: ClusterView
    ) -> tuple[str, float] | None:
        settings = self.settings
        self.store.set_status(incident.id, "verifying")
        start = self.clock.now()
        healthy_since: float | None = None
        settled_since: float | None = None
        health = Health(False, "not checked")
        view = before
        while True:
            now = self.clock.now()
            # A rollout still moving on gets until its progress deadline, not the short timeout.
            limit = (
                settings.verify_rollout_timeout_seconds
                if health.progressing
                else settings.verify_timeout_seconds
            )
            if now - start >= limit:
                break
            self.store.renew(incident.id, self.owner, now, settings.lease_seconds)
            try:
                view = gather(self.api, incident, now, details=False, usage=planned.name == "scale")
                health = judge(planned, view)
            except KubeError as error:
                health = Health(False, f"cannot read the cluster: {error}")
            if health.healthy:
                healthy_since = now if healthy_since is None else healthy_since
                if now - healthy_since >= settings.verify_stable_seconds or self._closed(incident):
                    break
            else:
                healthy_since = None
            settled_since = (settled_since or now) if health.settled else None
            if settled_since is not None and now - settled_since >= settings.verify_settled_seconds:
                break  # landed and still failing: the next rung, not more waiting
            self.clock.sleep(settings.verify_interval_seconds)
        now = self.clock.now()
        recovered = health.healthy and healthy_since is not None
        self._audit(incident, "verification", rung=rung, recovered=recovered,
                    reason=health.reason, before=before.summary(), after=view.summary())  # fmt: skip
        if recovered:
            self.store.record_outcome(incident.id, "resolved", now)
            self._notify("verified", incident, f"recovered: {health.reason}", action=planned,
                         action_status="done", before=before.summary(), after=view.summary())  # fmt: skip
            return "resolved", 0.0
        self.store.record_outcome(incident.id, "failed", now)
        self.store.set_status(incident.id, "acting", rung + 1)
        self._audit(incident, "not_recovered", rung=rung, reason=health.reason)
        return None  # the caller decides the next rung

    def _resume(self, incident: Incident, rung: int) -> tuple[str, float] | None:
        """After a crash: finish the started action without repeating its mutation."""
        started = [a for a in self.store.actions(incident.id) if a["rung"] == rung]
        if not started:
            return None
        row = started[0]
        planned = PlannedAction(**row["planned"])
        view = gather(self.api, incident, self.clock.now())
        self._audit(incident, "resumed", rung=rung, action=planned.describe(), status=row["status"])
        if row["status"] == "done":
            result = self._verify(incident, rung, planned, view)
        elif row["status"] == "failed":
            return "escalated", 0.0
        else:
            result = self._execute(incident, rung, planned, view)
        return result


def _incident_fields(record: dict[str, Any]) -> dict[str, Any]:
    keys = Incident.__dataclass_fields__
    return {k: v for k, v in record.items() if k in keys}


def _closed(incident: Incident) -> Incident:
    return replace(incident, state="closed")
