"""The local dashboard: incidents with a timeline chart, the audit trail, pending approvals with
approve/deny, and the chat messages as the team saw them. It reads the other services' HTTP APIs
(self-healing service §7, monitoring time series, chat sink) and keeps no state of its own."""

from __future__ import annotations

import html
import io
import urllib.parse
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from gke_heal.chatlog import message_text

ANOMALY_METRIC = "custom.googleapis.com/anomaly/score"
STYLE = """
body{font-family:system-ui,sans-serif;margin:0 auto;max-width:1100px;padding:1em;color:#222}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:4px 6px;
text-align:left;font-size:14px}a{color:#1a5fb4}.pending{background:#fff4d6}
.badge{padding:1px 6px;border-radius:8px;background:#eee;font-size:12px}
button{padding:4px 12px;margin-right:6px}.approve{background:#2ca02c;color:#fff;border:0}
.deny{background:#d62728;color:#fff;border:0}pre{white-space:pre-wrap;font-size:12px}
"""


@dataclass(frozen=True)
class DashboardSources:
    """Where the dashboard reads from."""

    healing_url: str
    healing_token: str
    monitoring_url: str
    chat_sink_url: str
    project: str = "local-project"
    user: str = "dashboard:local-operator"


def _ts(at: Any) -> str:
    try:
        return datetime.fromtimestamp(float(at), tz=UTC).strftime("%Y-%m-%d %H:%M:%S")
    except (TypeError, ValueError):
        return "-"


def _page(title: str, body: str) -> str:
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{STYLE}</style></head><body><h1><a href='/'>gke-heal</a> · "
        f"{html.escape(title)}</h1>{body}</body></html>"
    )


def create_dashboard(sources: DashboardSources, client: httpx.Client | None = None) -> FastAPI:
    """A fresh dashboard app reading from `sources`."""
    http = client or httpx.Client(timeout=10.0)
    auth = {"Authorization": f"Bearer {sources.healing_token}"}
    app = FastAPI(title="gke-heal dashboard")

    def healing(path: str, method: str = "GET", **kwargs: Any) -> Any:
        try:
            response = http.request(
                method, f"{sources.healing_url}/api/v1{path}", headers=auth, **kwargs
            )
        except httpx.HTTPError as exc:
            raise HTTPException(502, f"self-healing service unreachable: {exc}") from None
        if response.status_code >= 400:
            raise HTTPException(response.status_code, response.json().get("detail", "error"))
        return response.json()

    def chat_messages() -> list[dict[str, Any]]:
        try:
            return list(http.get(f"{sources.chat_sink_url}/_sink/messages").json())
        except (httpx.HTTPError, ValueError):
            return []

    @app.get("/", response_class=HTMLResponse)
    def index() -> str:
        status = healing("/status")
        incidents = healing("/incidents", params={"state": "all"})
        rows = "".join(
            f"<tr class='{'pending' if i.get('status') == 'waiting' else ''}'>"
            f"<td><a href='/incidents/{html.escape(str(i['id']))}'>{html.escape(str(i['id']))}</a></td>"
            f"<td>{html.escape(str(i.get('issue', '')))}</td>"
            f"<td>{html.escape(str(i.get('workload', '')))}</td>"
            f"<td><span class='badge'>{html.escape(str(i.get('status', '')))}</span></td>"
            f"<td>{html.escape(str(i.get('state', '')))}</td><td>{_ts(i.get('opened_at'))}</td></tr>"
            for i in incidents
        )
        summary = " · ".join(f"{k}: <b>{html.escape(str(v))}</b>" for k, v in status.items())
        chat = "".join(
            f"<li>{html.escape(str(m.get('channel') or m.get('kind') or ''))}: "
            f"{html.escape(message_text(m))}</li>"
            for m in chat_messages()[-20:]
        )
        body = (
            f"<p>{summary}</p><h2>Incidents</h2><table><tr><th>id</th><th>issue</th>"
            f"<th>workload</th><th>status</th><th>state</th><th>opened</th></tr>{rows}</table>"
            f"<h2>Chat (latest)</h2><ul>{chat}</ul>"
            f"<p><a href='{html.escape(sources.chat_sink_url)}/'>all chat messages</a></p>"
        )
        return _page("incidents", body)

    @app.get("/incidents/{incident_id}", response_class=HTMLResponse)
    def incident(incident_id: str) -> str:
        detail = healing(f"/incidents/{incident_id}")
        audit = "".join(
            f"<tr><td>{_ts(r.get('at'))}</td><td>{html.escape(str(r.get('kind')))}</td>"
            f"<td><pre>{html.escape(_short(r.get('data')))}</pre></td></tr>"
            for r in detail.get("audit", [])
        )
        actions = "".join(
            f"<tr><td>{html.escape(str(a.get('action')))}</td>"
            f"<td>{html.escape(str(a.get('status')))}</td><td>{_ts(a.get('started_at'))}</td></tr>"
            for a in detail.get("actions", [])
        )
        approval = ""
        asked = any(
            r.get("kind") == "decision" and (r.get("data") or {}).get("outcome") == "await_approval"
            for r in detail.get("audit", [])
        )
        if detail.get("status") == "waiting" and asked:
            approval = (
                f"<form method='post' action='/incidents/{html.escape(incident_id)}/decide'>"
                "<p class='pending'>An action is waiting for approval.</p>"
                "<button class='approve' name='decision' value='approve'>Approve</button>"
                "<button class='deny' name='decision' value='deny'>Deny</button></form>"
            )
        chat = "".join(
            f"<li>{html.escape(message_text(m))}</li>"
            for m in chat_messages()
            if incident_id in str(m)
        )
        body = (
            f"<p>{html.escape(str(detail.get('issue')))} on "
            f"<b>{html.escape(str(detail.get('workload')))}</b> · status "
            f"<span class='badge' id='status'>{html.escape(str(detail.get('status')))}</span>"
            f" · opened {_ts(detail.get('opened_at'))}</p>{approval}"
            f"<img alt='timeline' src='/incidents/{html.escape(incident_id)}/timeline.png'>"
            f"<h2>Actions</h2><table id='actions'>{actions}</table>"
            f"<h2>Audit trail</h2><table>{audit}</table><h2>Chat</h2><ul>{chat}</ul>"
        )
        return _page(f"incident {incident_id}", body)

    @app.post("/incidents/{incident_id}/decide")
    async def decide(incident_id: str, request: Request) -> RedirectResponse:
        form = urllib.parse.parse_qs((await request.body()).decode("utf-8", "replace"))
        decision = (form.get("decision") or [""])[0]
        if decision not in ("approve", "deny"):
            raise HTTPException(400, "decision: must be approve or deny")
        healing(f"/incidents/{incident_id}/{decision}", "POST", json={"user": sources.user})
        return RedirectResponse(f"/incidents/{incident_id}", status_code=303)

    @app.get("/incidents/{incident_id}/timeline.png")
    def timeline(incident_id: str) -> Response:
        detail = healing(f"/incidents/{incident_id}")
        points = _anomaly_points(http, sources, str(detail.get("workload", "")))
        return Response(_timeline_png(detail, points), media_type="image/png")

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def _short(data: Any) -> str:
    text = str(data)
    return text if len(text) < 600 else text[:600] + "…"


def _anomaly_points(
    http: httpx.Client, sources: DashboardSources, workload: str
) -> list[tuple[float, float]]:
    query = f'metric.type = "{ANOMALY_METRIC}" AND metric.labels.workload = "{workload}"'
    try:
        data = http.get(
            f"{sources.monitoring_url}/v3/projects/{sources.project}/timeSeries",
            params={"filter": query},
        ).json()
    except (httpx.HTTPError, ValueError):
        return []
    best: dict[float, float] = {}
    for series in data.get("timeSeries", []):
        for point in series.get("points", []):
            end = datetime.strptime(point["interval"]["endTime"][:19], "%Y-%m-%dT%H:%M:%S").replace(
                tzinfo=UTC
            )
            value = point["value"]
            v = float(value.get("doubleValue", value.get("int64Value", 0)))
            t = end.timestamp()
            best[t] = max(best.get(t, 0.0), v)
    return sorted(best.items())


def _timeline_png(detail: dict[str, Any], points: list[tuple[float, float]]) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 2.8), dpi=100)
    origin = float(detail.get("opened_at") or (points[0][0] if points else 0.0))
    if points:
        ax.plot(
            [(t - origin) / 60 for t, _ in points], [v for _, v in points], label="anomaly score"
        )
    markers = {"detected": (detail.get("opened_at"), "#ff7f0e")}
    for record in detail.get("audit", []):
        if record.get("kind") in ("action_done", "verification", "approval"):
            markers[str(record["kind"])] = (
                record.get("at"),
                {"action_done": "#9467bd", "verification": "#2ca02c", "approval": "#1f77b4"}[
                    str(record["kind"])
                ],
            )
    for label, (at, colour) in markers.items():
        if at:
            ax.axvline((float(at) - origin) / 60, color=colour, linestyle="--", label=label)
    ax.set_ylim(0, 1.05)
    ax.set_title(f"{detail.get('issue')} on {detail.get('workload')}", fontsize=10)
    ax.legend(fontsize=7, loc="upper left")
    ax.grid(alpha=0.3)
    ax.set_xlabel("minutes from the incident's opening")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()
