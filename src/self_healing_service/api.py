"""The `/api/v1` router ChatOps and the dashboard call (contracts §7), behind a bearer token."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, Field

from self_healing_service.engine import Healer
from self_healing_service.notifications import CONTROL_STREAM, control_notification
from self_healing_service.security import require_bearer
from self_healing_service.worker import Worker


class Decided(BaseModel):
    user: str = Field(min_length=1, max_length=200, pattern=r"^\S+$")
    comment: str | None = Field(None, max_length=2000)


class ModeChange(BaseModel):
    mode: Literal["observe", "recommend", "enforce"]
    user: str = Field(min_length=1, max_length=200)


class Who(BaseModel):
    user: str = Field("api", min_length=1, max_length=200)


class SilenceRequest(BaseModel):
    workload: str = Field(
        pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?(/[a-z0-9]([-a-z0-9.]*[a-z0-9])?)?$"
    )
    duration_seconds: float = Field(gt=0, le=7 * 24 * 3600)
    user: str = Field(min_length=1, max_length=200)


def api_router(healer: Healer, worker: Worker | None) -> APIRouter:
    settings, store, clock = healer.settings, healer.store, healer.clock

    def authorised(request: Request) -> None:
        require_bearer(request, settings.api_token, "the API token")

    router = APIRouter(prefix="/api/v1", dependencies=[Depends(authorised)], tags=["api"])

    def control_audit(kind: str, **data: Any) -> None:
        store.audit("-", "-", kind, data, clock.now())

    @router.get("/status")
    def status() -> dict[str, Any]:
        mode, paused = store.control(settings.mode)
        outcomes = store.history_outcomes()
        breaker_open = len(outcomes) >= settings.breaker_failures and all(
            o == "failed" for o in outcomes[: settings.breaker_failures]
        )
        return {
            "mode": mode,
            "paused": paused,
            "open_incidents": len(store.incidents("open")),
            "pending_approvals": len(store.pending_approvals(clock.now())),
            "circuit_breaker": "open" if breaker_open else "closed",
            "approval_actions": list(settings.approval_actions),
        }

    @router.get("/incidents")
    def incidents(
        state: Literal["open", "closed", "all"] = Query("all"),
    ) -> list[dict[str, Any]]:
        return store.incidents(state)

    @router.get("/incidents/{incident_id}")
    def incident(incident_id: str) -> dict[str, Any]:
        found = store.incident(incident_id)
        if found is None:
            raise HTTPException(404, f"no incident {incident_id}")
        return {
            **found,
            "actions": store.actions(incident_id),
            "audit": store.audit_records(incident_id=incident_id),
        }

    def decide(incident_id: str, body: Decided, approve: bool) -> dict[str, Any]:
        result = store.decide_approval(incident_id, approve, body.user, clock.now())
        if result == "unknown":
            raise HTTPException(404, f"no incident {incident_id}")
        if isinstance(result, str):
            raise HTTPException(409, f"incident {incident_id} has no pending approval")
        workload = str((store.incident(incident_id) or {}).get("workload", ""))
        decision = {"status": result.status, "user": body.user, "comment": body.comment}
        store.audit(incident_id, workload, "approval", decision, clock.now())
        if worker is not None:
            worker.submit(incident_id)
        return {"status": result.status, "incident_id": incident_id, "approval_id": result.id}

    @router.post("/incidents/{incident_id}/approve")
    def approve(incident_id: str, body: Decided) -> dict[str, Any]:
        return decide(incident_id, body, True)

    @router.post("/incidents/{incident_id}/deny")
    def deny(incident_id: str, body: Decided) -> dict[str, Any]:
        return decide(incident_id, body, False)

    @router.post("/pause")
    def pause(body: Who | None = None) -> dict[str, Any]:
        store.set_control(paused=True)
        control_audit("paused", user=(body or Who()).user)
        return {"paused": True}

    @router.post("/resume")
    def resume(body: Who | None = None) -> dict[str, Any]:
        store.set_control(paused=False)
        control_audit("resumed", user=(body or Who()).user)
        return {"paused": False}

    @router.put("/mode")
    def mode(body: ModeChange) -> dict[str, Any]:
        before, _ = store.control(settings.mode)
        store.set_control(mode=body.mode)
        control_audit("mode_changed", mode=body.mode, previous=before, user=body.user)
        if body.mode != before:
            # The team hears about it: a switch to enforce means the service will now act.
            now = clock.now()
            store.enqueue(
                CONTROL_STREAM,
                control_notification(
                    "mode_changed", now=now, cluster=settings.cluster_name, mode=body.mode,
                    summary=f"{body.user} changed the mode from {before} to {body.mode}",
                    base_url=settings.public_url,
                ),
                now,
            )  # fmt: skip
        return {"mode": body.mode, "previous": before}

    @router.post("/silences")
    def silence(body: SilenceRequest) -> dict[str, Any]:
        until = clock.now() + body.duration_seconds
        store.silence(body.workload, until, body.user)
        control_audit("silenced", workload=body.workload, until=until, user=body.user)
        return {"workload": body.workload, "until": until}

    @router.get("/history")
    def history(workload: str = Query(min_length=1, max_length=300)) -> list[dict[str, Any]]:
        return store.audit_records(workload=workload)

    return router
