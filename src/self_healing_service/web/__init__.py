"""A read-only web view: incidents, each one's timeline with a chart of its signal, decisions,
actions, and pending approvals. Server-rendered HTML; no scripts."""

from __future__ import annotations

from html import escape
from typing import Any

from fastapi import APIRouter, HTTPException
from fastapi.responses import HTMLResponse

from self_healing_service.clock import Clock
from self_healing_service.notifications import rfc3339
from self_healing_service.store.base import Store

STYLE = (
    "body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse}"
    "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}"
    ".act{background:#e8f5e9}.stop{background:#fff3e0}"
)


def _page(title: str, body: str) -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title>"
        f"<style>{STYLE}</style></head><body><h1>{escape(title)}</h1>{body}</body></html>"
    )


def signal_chart(points: list[tuple[float, float]], threshold: float | None) -> str:
    """An inline SVG line of the anomaly score over time, with the threshold dashed."""
    if not points:
        return "<p>No signal values received.</p>"
    width, height = 480, 120
    t0, t1 = points[0][0], max(points[-1][0], points[0][0] + 1)
    top = max([v for _, v in points] + [threshold or 0, 1.0])

    def xy(t: float, v: float) -> str:
        return f"{(t - t0) / (t1 - t0) * (width - 20) + 10:.1f},{height - 10 - v / top * (height - 20):.1f}"

    line = " ".join(xy(t, v) for t, v in points)
    dots = "".join(
        f"<circle cx='{xy(t, v).split(',')[0]}' cy='{xy(t, v).split(',')[1]}' r='3'/>"
        for t, v in points
    )
    rule = ""
    if threshold is not None:
        y = xy(t0, threshold).split(",")[1]
        rule = (
            f"<line x1='10' x2='{width - 10}' y1='{y}' y2='{y}' stroke='red' stroke-dasharray='4'/>"
        )
    return (
        f"<svg role='img' aria-label='signal' width='{width}' height='{height}'>"
        f"<polyline fill='none' stroke='#1565c0' points='{line}'/>{dots}{rule}</svg>"
    )


def web_router(store: Store, clock: Clock) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/", response_class=HTMLResponse)
    def index() -> HTMLResponse:
        rows = "".join(
            f"<tr><td><a href='/incidents/{escape(i['id'])}'>{escape(i['id'])}</a></td>"
            f"<td>{escape(i['issue'])}</td><td>{escape(i['workload'])}</td>"
            f"<td>{escape(i['state'])}</td><td>{escape(i['status'])}</td>"
            f"<td>{rfc3339(i['opened_at'])}</td></tr>"
            for i in store.incidents()
        )
        approvals = "".join(
            f"<li><a href='/incidents/{escape(a.incident_id)}'>{escape(a.incident_id)}</a>: "
            f"{escape(a.action)} (expires {rfc3339(a.expires_at)})</li>"
            for a in store.pending_approvals(clock.now())
        )
        mode, paused = store.control("observe")
        body = (
            f"<p>Mode: <b>{escape(mode)}</b>{' (paused)' if paused else ''}</p>"
            f"<h2>Pending approvals</h2><ul>{approvals or '<li>none</li>'}</ul>"
            "<h2>Incidents</h2><table><tr><th>id</th><th>issue</th><th>workload</th>"
            f"<th>state</th><th>status</th><th>opened</th></tr>{rows}</table>"
        )
        return _page("gke-heal: incidents", body)

    @router.get("/incidents/{incident_id}", response_class=HTMLResponse)
    def incident(incident_id: str) -> HTMLResponse:
        found = store.incident(incident_id)
        if found is None:
            raise HTTPException(404, f"no incident {incident_id}")
        records = store.audit_records(incident_id=incident_id)
        points = [
            (float(r["at"]), float(r["data"]["observed"]))
            for r in records
            if r["kind"] == "notice" and r["data"].get("observed") is not None
        ]
        timeline = "".join(_row(r) for r in records)
        actions = "".join(
            f"<li>rung {a['rung']}: {escape(a['action'])} on {escape(a['target'])} — "
            f"{escape(a['status'])}</li>"
            for a in store.actions(incident_id)
        )
        body = (
            f"<p>{escape(found['issue'])} on <b>{escape(found['workload'])}</b>, "
            f"{escape(found['state'])} / {escape(found['status'])}</p>"
            f"<h2>Signal</h2>{signal_chart(points, found.get('threshold'))}"
            f"<h2>Actions</h2><ul>{actions or '<li>none</li>'}</ul>"
            "<h2>Timeline</h2><table><tr><th>time</th><th>what</th><th>details</th></tr>"
            f"{timeline}</table>"
        )
        return _page(f"Incident {incident_id}", body)

    return router


def _row(record: dict[str, Any]) -> str:
    data = record["data"]
    css = "act" if record["kind"].startswith("action") else ""
    if record["kind"] == "decision" and data.get("outcome") != "act":
        css = "stop"
    detail = "; ".join(data.get("reasons") or []) or data.get("reason") or data.get("action") or ""
    return (
        f"<tr class='{css}'><td>{rfc3339(record['at'])}</td><td>{escape(record['kind'])}"
        f"{' ' + escape(str(data.get('outcome'))) if 'outcome' in data else ''}</td>"
        f"<td>{escape(str(detail))}</td></tr>"
    )
