"""Delivers the outbox to Slack and Teams, first in first out (so each incident's messages
arrive in order), with exponential back-off that honours Retry-After on 429 and 5xx."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from chatops.outcomes import PermanentFailure, TemporaryFailure
from chatops.slack import SlackChannel
from chatops.store import OutboxItem, Store
from chatops.teams import TeamsChannel

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 8
    backoff_seconds: float = 0.5
    backoff_max_seconds: float = 30.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Wait before attempt number `attempt + 1`; Retry-After wins when it asks for longer."""
        backoff = min(self.backoff_max_seconds, self.backoff_seconds * 2.0 ** max(0, attempt - 1))
        if retry_after is not None:
            return float(min(self.backoff_max_seconds, max(backoff, retry_after)))
        return float(backoff)


class Courier:
    """The single worker that empties the outbox."""

    def __init__(
        self,
        store: Store,
        slack: SlackChannel | None,
        teams: TeamsChannel | None,
        policy: RetryPolicy,
        clock: Callable[[], float],
        before_each_round: Callable[[], object] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.store = store
        self.slack = slack
        self.teams = teams
        self.policy = policy
        self.clock = clock
        self.sleep = sleep
        self.before_each_round = before_each_round
        self.wake = asyncio.Event()

    async def run_forever(self, idle_seconds: float = 1.0) -> None:
        while True:
            # Cleared before looking, so a wake-up that arrives meanwhile is not lost.
            self.wake.clear()
            if self.before_each_round is not None:
                await asyncio.to_thread(self.before_each_round)
            worked = await self.deliver_next()
            if not worked:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), idle_seconds)

    async def deliver_next(self) -> bool:
        """Attempt the oldest pending message (waiting for its back-off first); False if none."""
        item = self.store.next_pending()
        if item is None:
            return False
        wait = item.next_attempt_at - self.clock()
        if wait > 0:
            await self.sleep(wait)
        try:
            await self._attempt(item)
        except TemporaryFailure as exc:
            attempts = item.attempts + 1
            if attempts >= self.policy.attempts:
                log.warning("giving up message %s after %s attempts: %s", item.id, attempts, exc)
                self.store.give_up(item.id, exc.reason)
            else:
                delay = self.policy.delay(attempts, exc.retry_after)
                log.info("message %s: %s; retrying in %.2fs", item.id, exc.reason, delay)
                self.store.retry_later(item.id, self.clock() + delay, exc.reason)
        except PermanentFailure as exc:
            log.warning("message %s refused: %s", item.id, exc.reason)
            self.store.give_up(item.id, exc.reason)
        else:
            self.store.delivered(item.id, self.clock())
        return True

    async def _attempt(self, item: OutboxItem) -> None:
        delivery_id = str(item.id)
        message = item.body.get("message", {})
        if item.target == "teams":
            if self.teams is None:
                raise PermanentFailure("Teams is not configured")
            await self.teams.post(message, delivery_id)
            return
        slack = self.slack
        if slack is None:
            raise PermanentFailure("Slack is not configured")
        if item.target == "slack_webhook":
            await asyncio.to_thread(slack.webhook, message, delivery_id)
            return
        incident = self.store.incident(item.incident_id)
        thread_ts = incident["slack_ts"] if incident else None
        if item.operation == "root":
            if thread_ts:
                try:
                    await asyncio.to_thread(slack.update, thread_ts, message, delivery_id)
                    return
                except PermanentFailure as exc:
                    # Someone deleted the incident message: start the conversation again.
                    if "message_not_found" not in exc.reason:
                        raise
            ts = await asyncio.to_thread(slack.post, message, delivery_id)
            self.store.update_incident(item.incident_id, slack_ts=ts)
        elif item.operation == "reply":
            broadcast = bool(item.body.get("broadcast"))
            await asyncio.to_thread(slack.post, message, delivery_id, thread_ts, broadcast)
        elif item.operation == "chart":
            png = base64.b64decode(item.body["png_b64"])
            await asyncio.to_thread(slack.upload, png, str(item.body["title"]), thread_ts)
        elif item.operation == "storm":
            storm_id = str(item.body["storm_id"])
            rows = self.store.execute("SELECT slack_ts FROM storms WHERE storm_id = ?", (storm_id,))
            storm_ts = rows[0]["slack_ts"] if rows else None
            if storm_ts:
                await asyncio.to_thread(slack.update, storm_ts, message, delivery_id)
            else:
                ts = await asyncio.to_thread(slack.post, message, delivery_id)
                self.store.execute(
                    "UPDATE storms SET slack_ts = ? WHERE storm_id = ?", (ts, storm_id)
                )
        else:
            raise PermanentFailure(f"unknown operation {item.operation}")
