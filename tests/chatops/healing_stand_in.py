"""TEST-ONLY stand-in for the self-healing service API (docs/contracts.md §7), used until the
real `self_healing_service` can be started by the tests. It keeps state in memory, checks the
bearer token and records every change with the user who asked, as the real audit log would."""

from __future__ import annotations

import hmac
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel


class Who(BaseModel):
    user: str
    comment: str | None = None


class ModeChange(BaseModel):
    mode: str
    user: str


class Silence(BaseModel):
    workload: str
    duration_seconds: int
    user: str


def create_stand_in(token: str) -> FastAPI:
    app = FastAPI(title="self-healing API stand-in (tests only)")
    state: dict[str, Any] = {"mode": "recommend", "paused": False}
    incidents: dict[str, dict[str, Any]] = {}
    audit: list[dict[str, Any]] = []
    app.state.incidents = incidents
    app.state.audit = audit
    app.state.state = state

    @app.middleware("http")
    async def bearer(request: Request, call_next: Any) -> Any:
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return JSONResponse({"detail": "bad bearer token"}, 401)
        return await call_next(request)

    def summary(item: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in item.items() if k != "approvals"}

    @app.get("/api/v1/status")
    async def status() -> dict[str, Any]:
        return {
            "mode": state["mode"],
            "paused": state["paused"],
            "open_incidents": sum(1 for i in incidents.values() if i["state"] == "open"),
            "pending_approvals": sum(1 for i in incidents.values() if i["pending"]),
            "circuit_breaker": "closed",
            "approval_actions": [],
        }

    @app.get("/api/v1/incidents")
    async def list_incidents(state: str = "open") -> list[dict[str, Any]]:
        return [summary(i) for i in incidents.values() if state in ("all", i["state"])]

    @app.get("/api/v1/incidents/{incident_id}")
    async def one(incident_id: str) -> Any:
        if incident_id not in incidents:
            return JSONResponse({"detail": f"incident {incident_id} not found"}, 404)
        return summary(incidents[incident_id])

    @app.post("/api/v1/incidents/{incident_id}/approve")
    async def approve(incident_id: str, who: Who) -> Any:
        item = incidents.get(incident_id)
        if item is None:
            return JSONResponse({"detail": f"incident {incident_id} not found"}, 404)
        if not item["pending"]:
            return JSONResponse({"detail": f"incident {incident_id} has no pending action"}, 409)
        if who.user in item["approvals"]:
            return JSONResponse({"detail": f"{who.user} already approved"}, 409)
        item["approvals"].append(who.user)
        audit.append({"decision": "approve", "user": who.user, "incident": incident_id})
        if len(item["approvals"]) < item["approvers_required"]:
            return {"status": "waiting_second_approver", "approvals": item["approvals"]}
        item["pending"] = False
        audit.append({"decision": "act", "action": item["action"], "incident": incident_id})
        return {"status": "approved", "action": item["action"]}

    @app.post("/api/v1/incidents/{incident_id}/deny")
    async def deny(incident_id: str, who: Who) -> Any:
        item = incidents.get(incident_id)
        if item is None:
            return JSONResponse({"detail": f"incident {incident_id} not found"}, 404)
        if not item["pending"]:
            return JSONResponse({"detail": f"incident {incident_id} has no pending action"}, 409)
        item["pending"] = False
        audit.append({"decision": "deny", "user": who.user, "incident": incident_id})
        return {"status": "denied"}

    @app.post("/api/v1/pause")
    async def pause(who: Who) -> dict[str, Any]:
        state["paused"] = True
        audit.append({"decision": "pause", "user": who.user})
        return {"paused": True}

    @app.post("/api/v1/resume")
    async def resume(who: Who) -> dict[str, Any]:
        state["paused"] = False
        audit.append({"decision": "resume", "user": who.user})
        return {"paused": False}

    @app.put("/api/v1/mode")
    async def mode(change: ModeChange) -> dict[str, Any]:
        state["mode"] = change.mode
        audit.append({"decision": "mode", "mode": change.mode, "user": change.user})
        return {"mode": change.mode}

    @app.post("/api/v1/silences")
    async def silence(body: Silence) -> dict[str, Any]:
        audit.append({"decision": "silence", "workload": body.workload, "user": body.user})
        return {"workload": body.workload, "duration_seconds": body.duration_seconds}

    @app.get("/api/v1/history")
    async def history(workload: str) -> list[dict[str, Any]]:
        return [r for r in audit if r.get("workload") == workload]

    return app


def seed_pending(app: FastAPI, incident_id: str, approvers_required: int = 1) -> None:
    """An open incident whose rollout restart waits for approval."""
    app.state.incidents[incident_id] = {
        "id": incident_id,
        "state": "open",
        "severity": "critical",
        "issue": "memory_leak",
        "workload": {"namespace": "shop", "name": "cart"},
        "summary": "cart memory at 95% of its limit",
        "pending": True,
        "approvers_required": approvers_required,
        "action": "rollout_restart",
        "approvals": [],
    }
