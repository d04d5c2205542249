"""Delivery against the local chat sink acting as a flaky server (429 with Retry-After, 500s,
timeouts): every message is delivered once, in order per incident; the Slack root message is
updated in place and replies go to its thread; storms are grouped."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import httpx
from chatops_harness import NOTIFY_TOKEN, Sink
from samples import notification
from servers import RunningServer, wait_until

from chatops.render.view import KIND_TITLES
from chatops.sink.faults import Fault

LIFE = [
    "incident_opened",
    "action_planned",
    "approval_requested",
    "action_taken",
    "verified",
    "closed",
]
TITLE_TO_KIND = {title: kind for kind, title in KIND_TITLES.items()}


def notify(
    server: RunningServer, body: dict[str, Any], token: str = NOTIFY_TOKEN
) -> httpx.Response:
    return httpx.post(
        server.url + "/notify", json=body, headers={"Authorization": f"Bearer {token}"}, timeout=5
    )


def drained(server: RunningServer) -> dict[str, int] | None:
    counts: dict[str, int] = httpx.get(server.url + "/healthz", timeout=5).json()["outbox"]
    return counts if counts["pending"] == 0 and counts["sent"] > 0 else None


def card_incident_and_kind(body: dict[str, Any]) -> tuple[str, str]:
    card = body["attachments"][0]["content"]
    title = card["body"][0]["text"]
    facts = {f["title"]: f["value"] for f in card["body"][1]["facts"]}
    return facts["Incident"], TITLE_TO_KIND[title.split(":")[0]]


def test_flaky_sink_every_message_once_and_in_order(
    chatops_factory: Callable[..., RunningServer], sink: Sink
) -> None:
    sink.faults.add(
        Fault(path_prefix="/api/chat.postMessage", status=429, retry_after=1),
        Fault(path_prefix="/api/chat.update", status=500),
        Fault(path_prefix="/api/chat.update", delay_seconds=1.6),  # longer than the 1 s timeout
        Fault(path_prefix="/teams/", status=500),
        Fault(path_prefix="/teams/", status=429, retry_after=0.5),
        Fault(path_prefix="/teams/", delay_seconds=1.6),
        Fault(path_prefix="/api/files.getUploadURLExternal", status=503),
    )
    server = chatops_factory()
    incidents = ["0.a", "0.b", "0.c"]
    for sequence, kind in enumerate(LIFE, start=1):
        for incident in incidents:
            body = notification(kind, incident, sequence)
            if incident == "0.c" and kind == "action_planned":
                held = body  # arrives late: after its successor
                continue
            assert notify(server, body).status_code == 202
            if incident == "0.c" and kind == "approval_requested":
                assert notify(server, held).status_code == 202
    counts = wait_until(lambda: drained(server), timeout=40)
    assert counts["failed"] == 0
    assert sink.faults.pending() == 0, "every fault was played"

    accepted = [r for r in sink.requests() if r["platform"] in ("slack", "teams")]
    keys = Counter(
        (r["method"], r["delivery_id"]) for r in accepted if r["delivery_id"] is not None
    )
    assert keys and max(keys.values()) == 1, [k for k, n in keys.items() if n > 1]
    assert all(r["problems"] == [] for r in accepted)

    # Teams: one card per event, in sequence order per incident.
    cards = [card_incident_and_kind(r["body"]) for r in accepted if r["platform"] == "teams"]
    for incident in incidents:
        assert [k for i, k in cards if i == incident] == LIFE

    # Slack: one root per incident, updated in place for each later event, replies threaded.
    messages = sink.messages()
    roots = [m for m in messages if m["platform"] == "slack" and m["thread_ts"] is None]
    assert len(roots) == len(incidents)
    for root in roots:
        assert root["revisions"] == len(LIFE)
        assert root["body"]["blocks"][0]["text"]["text"].startswith(":heavy_check_mark: Closed")
        thread = [m for m in messages if m["thread_ts"] == root["ts"]]
        texts = [m["body"]["text"] for m in thread]
        assert texts[0].startswith("uploaded memory_limit_utilization"), "chart in the thread"
        kinds = [TITLE_TO_KIND[t.split(":")[0]] for t in texts[1:]]
        assert kinds == ["approval_requested", "action_taken", "verified", "closed"]

    # Retry-After was honoured: no retry came sooner than asked.
    log = sink.requests()
    for index, row in enumerate(log):
        retry_after = row["body"].get("retry_after") if row["platform"] == "fault" else None
        if retry_after:
            path = row["method"]
            later = [r for r in log[index + 1 :] if r["platform"] != "fault" and _path(r) == path]
            assert later[0]["received_at"] - row["received_at"] >= retry_after - 0.05


def _path(row: dict[str, Any]) -> str:
    if row["platform"] == "teams":
        return "/teams/workflows/wf-secret-sig"
    return f"/api/{row['method']}"


def test_duplicates_are_dropped_and_bad_input_is_refused(
    chatops_factory: Callable[..., RunningServer], sink: Sink
) -> None:
    server = chatops_factory()
    body = notification("incident_opened", "0.dup", 1)
    assert notify(server, body).status_code == 202
    again = notify(server, body)
    assert again.status_code == 200 and again.json()["status"] == "duplicate"
    wait_until(lambda: drained(server))
    teams = [r for r in sink.requests() if r["platform"] == "teams"]
    assert len(teams) == 1

    assert notify(server, body, token="wrong").status_code == 401
    no_token = httpx.post(server.url + "/notify", json=body, timeout=5)
    assert no_token.status_code == 401
    broken = notify(server, {**body, "event_id": "x", "kind": "exploded", "sequence": -1})
    assert broken.status_code == 422
    assert "kind" in broken.json()["detail"] and "sequence" in broken.json()["detail"]
    not_json = httpx.post(
        server.url + "/notify",
        content=b"{",
        headers={"Authorization": f"Bearer {NOTIFY_TOKEN}"},
        timeout=5,
    )
    assert not_json.status_code == 422


def test_storm_is_grouped_into_one_message(
    chatops_factory: Callable[..., RunningServer], sink: Sink
) -> None:
    server = chatops_factory(storm_threshold=3, slack_charts=False)
    for i in range(7):
        assert notify(server, notification("incident_opened", f"0.s{i}", 1)).status_code == 202
    # A stormed incident that needs a person still gets its own message.
    assert notify(server, notification("approval_requested", "0.s5", 2)).status_code == 202
    wait_until(lambda: drained(server))
    messages = sink.messages()
    slack_roots = [m for m in messages if m["platform"] == "slack" and not m["thread_ts"]]
    storm = [m for m in slack_roots if "Alert storm" in m["body"]["text"]]
    assert len(storm) == 1 and storm[0]["revisions"] == 4  # incidents 4..7 of the storm
    assert "Alert storm: 4 incidents opened" in storm[0]["body"]["text"]
    individual = [m for m in slack_roots if "Alert storm" not in m["body"]["text"]]
    assert len(individual) == 3 + 1  # before the storm, plus the approval
    teams = [m for m in messages if m["platform"] == "teams"]
    assert len(teams) == 3 + 1 + 1  # three cards, one storm card, one approval card
    assert "Alert storm" in json.dumps(teams[3]["body"])


def test_permanent_refusals_are_not_retried(
    chatops_factory: Callable[..., RunningServer], sink: Sink
) -> None:
    sink.faults.add(Fault(path_prefix="/teams/", status=400))
    server = chatops_factory(slack_charts=False)
    started = time.monotonic()
    assert notify(server, notification("incident_opened", "0.p", 1)).status_code == 202
    counts = wait_until(lambda: drained(server))
    assert counts["failed"] == 1 and time.monotonic() - started < 5
    store = server.app.state.store  # type: ignore[attr-defined]
    rows = store.execute("SELECT last_error FROM outbox WHERE status = 'failed'")
    assert rows[0]["last_error"] == "Teams webhook refused the message (HTTP 400)"


def test_retry_policy_honours_retry_after_within_the_cap() -> None:
    from chatops.delivery import RetryPolicy

    policy = RetryPolicy(attempts=5, backoff_seconds=0.5, backoff_max_seconds=10)
    cases = [
        (1, None, 0.5, "first retry waits the base back-off"),
        (3, None, 2.0, "doubles per attempt"),
        (10, None, 10.0, "capped"),
        (1, 3.0, 3.0, "Retry-After longer than the back-off wins"),
        (3, 0.1, 2.0, "a shorter Retry-After does not shorten the back-off"),
        (1, 120.0, 10.0, "Retry-After is capped too"),
    ]
    for attempt, retry_after, expected, why in cases:
        assert policy.delay(attempt, retry_after) == expected, why


def test_missing_event_is_waited_for_then_skipped(
    chatops_factory: Callable[..., RunningServer], sink: Sink
) -> None:
    server = chatops_factory(sequence_gap_wait_seconds=2.0, slack_charts=False)
    assert notify(server, notification("incident_opened", "0.gap", 1)).status_code == 202
    assert notify(server, notification("action_taken", "0.gap", 3)).status_code == 202
    wait_until(lambda: drained(server))
    first = [card_incident_and_kind(r["body"]) for r in sink.requests() if r["platform"] == "teams"]
    assert first == [("0.gap", "incident_opened")], "sequence 3 waits for sequence 2"
    wait_until(lambda: len([r for r in sink.requests() if r["platform"] == "teams"]) == 2)
    kinds = [
        card_incident_and_kind(r["body"])[1] for r in sink.requests() if r["platform"] == "teams"
    ]
    assert kinds == ["incident_opened", "action_taken"], "after the wait it goes out anyway"


def test_webhook_only_slack_posts_each_event_and_a_deleted_root_is_reposted(
    chatops_factory: Callable[..., RunningServer], sink: Sink, tmp_path: Any
) -> None:
    from pydantic import SecretStr

    hook = chatops_factory(
        slack_bot_token=None,
        slack_webhook_url=SecretStr(f"{sink.url}/slack/webhook/T1/B1/x"),
        teams_webhook_url=None,
        db_path=tmp_path / "hook.sqlite3",
    )
    for sequence, kind in enumerate(["incident_opened", "action_taken"], start=1):
        assert notify(hook, notification(kind, "0.hook", sequence)).status_code == 202
    wait_until(lambda: drained(hook))
    posts = [m for m in sink.messages() if m["channel"] == "webhook:T1/B1/x"]
    assert [m["body"]["text"].split(":")[0] for m in posts] == ["Incident opened", "Action taken"]

    bot = chatops_factory(teams_webhook_url=None, slack_charts=False, db_path=tmp_path / "b.db")
    assert notify(bot, notification("incident_opened", "0.del", 1)).status_code == 202
    wait_until(lambda: drained(bot))
    store = bot.app.state.store  # type: ignore[attr-defined]
    store.update_incident("0.del", slack_ts="1.000404")  # as if the message had been deleted
    assert notify(bot, notification("action_planned", "0.del", 2)).status_code == 202
    wait_until(lambda: drained(bot) and drained(bot)["sent"] >= 2)
    roots = [m for m in sink.messages() if m["channel"] == "C0INCIDENTS" and not m["thread_ts"]]
    assert len(roots) == 2 and roots[1]["body"]["text"].startswith("Action planned")
    assert store.incident("0.del")["slack_ts"] == roots[1]["ts"]
