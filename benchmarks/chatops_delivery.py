"""ChatOps speed: rendering, the chart, and notifications delivered end to end to the local
chat sink (Slack Web API with threads and updates, plus Teams) over real HTTP.

Targets: render both formats at 500+ notifications/s; /notify acknowledged within 50 ms at p95;
200 events (40 incidents, 5 events each) delivered to Slack and Teams at 20+ events/s on this machine.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
from pydantic import SecretStr
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "chatops"))

from samples import notification
from servers import RunningServer, wait_until

from chatops.app import create_app
from chatops.notification import Notification
from chatops.render import adaptive_card, slack_blocks
from chatops.render.chart import signal_png
from chatops.render.view import incident_view
from chatops.settings import ChatOpsSettings
from chatops.sink.app import create_sink_app

RESULTS = Path(__file__).parent / "results" / "chatops_delivery.json"
LIFE = ["incident_opened", "action_planned", "action_taken", "verified", "closed"]


def render_rate() -> float:
    items = [Notification.model_validate(notification(k)) for k in LIFE] * 200
    started = time.perf_counter()
    for n in items:
        view = incident_view(n, ["03:00:00 Incident opened"])
        slack_blocks.incident_message(view)
        adaptive_card.incident_card(view)
    return len(items) / (time.perf_counter() - started)


def chart_ms() -> float:
    n = Notification.model_validate(notification("incident_opened"))
    assert n.signal is not None
    signal_png(n.signal)
    started = time.perf_counter()
    for _ in range(20):
        signal_png(n.signal)
    return (time.perf_counter() - started) / 20 * 1000


def end_to_end(folder: Path) -> tuple[list[float], float, int]:
    with RunningServer(create_sink_app(folder / "sink.sqlite3")) as sink:
        settings = ChatOpsSettings(
            auth="none",
            slack_bot_token=SecretStr("xoxb-bench"),
            slack_channel="C1",
            slack_api_url=f"{sink.url}/api/",
            teams_webhook_url=SecretStr(f"{sink.url}/teams/workflows/bench"),
            db_path=folder / "chatops.sqlite3",
            storm_threshold=1000,
        )
        with RunningServer(create_app(settings)) as chatops, httpx.Client() as http:
            acks = []
            started = time.perf_counter()
            for sequence, kind in enumerate(LIFE, start=1):
                for i in range(40):
                    t = time.perf_counter()
                    response = http.post(
                        chatops.url + "/notify", json=notification(kind, f"0.b{i}", sequence)
                    )
                    acks.append((time.perf_counter() - t) * 1000)
                    assert response.status_code == 202
            wait_until(
                lambda: http.get(chatops.url + "/healthz").json()["outbox"]["pending"] == 0,
                timeout=300,
            )
            elapsed = time.perf_counter() - started
            failed = http.get(chatops.url + "/healthz").json()["outbox"]["failed"]
    return acks, elapsed, int(failed)


def main() -> None:
    rate = render_rate()
    chart = chart_ms()
    with tempfile.TemporaryDirectory() as folder:
        acks, elapsed, failed = end_to_end(Path(folder))
    events = len(acks)
    p50 = statistics.median(acks)
    p95 = statistics.quantiles(acks, n=20)[18]
    delivered_rate = events / elapsed
    table = Table(title="chatops")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_column("target", justify="right")
    table.add_row("render Slack + Teams (notifications/s)", f"{rate:,.0f}", "500")
    table.add_row("PNG chart (ms)", f"{chart:.1f}", "-")
    table.add_row("/notify ack p50 / p95 (ms)", f"{p50:.1f} / {p95:.1f}", "p95 ≤ 50")
    table.add_row("events delivered end to end (events/s)", f"{delivered_rate:.1f}", "20")
    table.add_row("failed deliveries", str(failed), "0")
    Console().print(table)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "render_notifications_per_second": round(rate),
                "chart_ms": round(chart, 1),
                "notify_ack_ms_p50": round(p50, 1),
                "notify_ack_ms_p95": round(p95, 1),
                "end_to_end_events_per_second": round(delivered_rate, 1),
                "failed_deliveries": failed,
                "meets_targets": rate >= 500 and p95 <= 50 and delivered_rate >= 20 and not failed,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
