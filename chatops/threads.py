"""One conversation per incident: turns received notifications, in sequence order, into outbox
messages (post the incident once, then update it in place and reply in its thread), and groups
incidents opened during a storm into one message."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chatops.notification import Notification
from chatops.render import adaptive_card, slack_blocks
from chatops.render.chart import data_uri, signal_png
from chatops.render.view import KIND_TITLES, StormView, incident_view
from chatops.store import Store

# Events worth a reply in the thread (the root is updated for every event anyway).
REPLY_KINDS = {"approval_requested", "action_taken", "verified", "escalated", "closed"}
# Events that need a person: they leave the storm group and get their own message.
ATTENTION_KINDS = {"approval_requested", "escalated"}
TIMELINE_LENGTH = 15


@dataclass(frozen=True)
class Targets:
    """Where messages go: Slack Web API (threads), Slack incoming webhook, Teams Workflows."""

    slack_api: bool = False
    slack_webhook: bool = False
    teams: bool = False
    slack_charts: bool = True


@dataclass(frozen=True)
class StormPolicy:
    threshold: int = 5
    window_seconds: float = 300.0


class ThreadPlanner:
    """Plans the messages for received events; pure apart from the store it reads and writes."""

    def __init__(
        self,
        store: Store,
        targets: Targets,
        storm: StormPolicy,
        clock: Callable[[], float],
        gap_wait_seconds: float = 20.0,
        public_url: str = "",
    ) -> None:
        self.store = store
        self.targets = targets
        self.storm = storm
        self.clock = clock
        self.gap_wait_seconds = gap_wait_seconds
        self.public_url = public_url
        # Planning runs in worker threads (charts take milliseconds); one at a time, so that
        # no event is planned twice.
        self._lock = threading.Lock()

    def plan_ready(self) -> int:
        """Plan every event whose predecessors have arrived (or waited long enough); count them."""
        with self._lock:
            return self._plan_ready()

    def _plan_ready(self) -> int:
        now = self.clock()
        planned = 0
        blocked: set[str] = set()
        for row in self.store.unplanned():
            incident_id = row["incident_id"]
            if incident_id in blocked:
                continue
            notification = Notification.model_validate_json(row["payload"])
            incident = self.store.incident(incident_id)
            last = incident["last_sequence"] if incident else None
            waited = now - row["received_at"] >= self.gap_wait_seconds
            if last is None:
                ready = notification.kind == "incident_opened" or row["sequence"] <= 1 or waited
            else:
                ready = row["sequence"] <= last + 1 or waited
            if not ready:
                blocked.add(incident_id)
                continue
            self._plan(notification, now)
            self.store.mark_planned(row["event_id"])
            planned += 1
        return planned

    def _plan(self, n: Notification, now: float) -> None:
        first = self.store.incident(n.incident_id) is None
        self.store.open_incident(n.incident_id, now)
        incident = self.store.incident(n.incident_id)
        assert incident is not None
        last = incident["last_sequence"]
        stale = last is not None and n.sequence < last
        timeline: list[str] = json.loads(incident["timeline"])
        stamp = n.occurred_at.strftime("%H:%M:%S")
        timeline = [*timeline, f"{stamp} {KIND_TITLES[n.kind]}"][-TIMELINE_LENGTH:]
        line = f"{KIND_TITLES[n.kind]}: {n.issue or 'anomaly'} on {n.workload_ref}"
        self.store.update_incident(
            n.incident_id,
            timeline=timeline,
            line=line,
            last_sequence=max(last if last is not None else n.sequence, n.sequence),
        )
        storm_id = incident["storm_id"]
        if first and n.kind == "incident_opened":
            storm_id = self._storm_for(n.incident_id, now)
        if storm_id and n.kind not in ATTENTION_KINDS:
            self._plan_storm(storm_id, n, now, started=first)
            return
        if storm_id:
            self.store.update_incident(n.incident_id, storm_id=None)
        view = incident_view(n, timeline, self.public_url)
        chart = signal_png(n.signal) if (n.signal and n.signal.points and first) else None
        body: dict[str, Any]
        if self.targets.slack_api:
            if not stale:
                body = {"message": slack_blocks.incident_message(view)}
                self.store.enqueue(n.incident_id, n.sequence, "slack_api", "root", body, now)
            if not first and n.kind in REPLY_KINDS:
                body = {
                    "message": slack_blocks.timeline_reply(view),
                    "broadcast": n.kind == "escalated",
                }
                self.store.enqueue(n.incident_id, n.sequence, "slack_api", "reply", body, now)
            if chart is not None and self.targets.slack_charts:
                body = {
                    "png_b64": base64.b64encode(chart).decode("ascii"),
                    "title": f"{n.signal.metric if n.signal else 'signal'} ({n.incident_id})",
                }
                self.store.enqueue(n.incident_id, n.sequence, "slack_api", "chart", body, now)
        if self.targets.slack_webhook:
            body = {"message": slack_blocks.incident_message(view)}
            self.store.enqueue(n.incident_id, n.sequence, "slack_webhook", "post", body, now)
        if self.targets.teams:
            card = adaptive_card.incident_card(view, data_uri(chart) if chart else None)
            self.store.enqueue(n.incident_id, n.sequence, "teams", "post", {"message": card}, now)

    def _storm_for(self, incident_id: str, now: float) -> str | None:
        since = now - self.storm.window_seconds
        storm = self.store.active_storm(since)
        if storm is None and self.store.opened_since(since) <= self.storm.threshold:
            return None
        if storm is None:
            storm_id = f"storm-{incident_id}"
            self.store.start_storm(storm_id, now)
        else:
            storm_id = storm["storm_id"]
            self.store.execute(
                "UPDATE storms SET last_added_at = ? WHERE storm_id = ?", (now, storm_id)
            )
        self.store.update_incident(incident_id, storm_id=storm_id)
        return str(storm_id)

    def _plan_storm(self, storm_id: str, n: Notification, now: float, started: bool) -> None:
        members = self.store.storm_members(storm_id)
        link = n.links.get("dashboard") or (self.public_url or None)
        view = StormView(
            storm_id=storm_id,
            incidents=[(m["incident_id"], "", m["line"]) for m in members],
            link=link,
        )
        first_of_storm = started and len(members) == 1
        body: dict[str, Any]
        if self.targets.slack_api:
            body = {"storm_id": storm_id, "message": slack_blocks.storm_message(view)}
            self.store.enqueue(n.incident_id, n.sequence, "slack_api", "storm", body, now)
        # Webhooks cannot update a message: they get the storm's first message only.
        if first_of_storm and self.targets.slack_webhook:
            body = {"message": slack_blocks.storm_message(view)}
            self.store.enqueue(n.incident_id, n.sequence, "slack_webhook", "post", body, now)
        if first_of_storm and self.targets.teams:
            body = {"message": adaptive_card.storm_card(view)}
            self.store.enqueue(n.incident_id, n.sequence, "teams", "post", body, now)
