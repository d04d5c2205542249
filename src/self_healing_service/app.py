"""`create_app`: the FastAPI service. Intake endpoints authenticate, validate, persist the notice
and acknowledge at once; a worker acts asynchronously. Also /metrics, /healthz and the web view."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from pydantic import BaseModel

from self_healing_service.api import api_router
from self_healing_service.clock import Clock, SystemClock
from self_healing_service.engine import Counters, Healer
from self_healing_service.incidents import (
    AlertmanagerNotice,
    Incident,
    IntakeError,
    MonitoringNotice,
    PushEnvelope,
    from_alertmanager,
    from_monitoring,
    from_pubsub,
)
from self_healing_service.kube import ClusterApi
from self_healing_service.outbox import IdentitySource, Outbox
from self_healing_service.policy import Policy
from self_healing_service.security import (
    TokenVerifier,
    require_bearer,
    require_push,
    require_webhook,
)
from self_healing_service.settings import Settings
from self_healing_service.store.base import Store
from self_healing_service.web import web_router
from self_healing_service.worker import Worker

log = logging.getLogger(__name__)


class PrometheusCounters(Counters):
    def __init__(self, registry: CollectorRegistry) -> None:
        self.counters = {
            "notices": Counter("heal_notices", "Alert notices received", ["source", "result"],
                               registry=registry),
            "decisions": Counter("heal_decisions", "Decisions taken", ["outcome"],
                                 registry=registry),
            "actions": Counter("heal_actions", "Mutations made", ["action"], registry=registry),
        }  # fmt: skip

    def inc(self, name: str, **labels: str) -> None:
        self.counters[name].labels(**labels).inc()


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _inline(defs[ref.rsplit("/", 1)[1]], defs)
        return {k: _inline(v, defs) for k, v in node.items() if k != "$defs"}
    if isinstance(node, list):
        return [_inline(v, defs) for v in node]
    return node


def body_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The request body of a raw-body endpoint, for the OpenAPI document (refs inlined)."""
    schema = model.model_json_schema()
    inlined = _inline(schema, schema.get("$defs", {}))
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": inlined}}}}


async def _json_body(request: Request, limit: int) -> Any:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, f"body larger than {limit} bytes")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise HTTPException(413, f"body larger than {limit} bytes")
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise HTTPException(400, "body is not JSON") from None


def _google_identity(audience: str) -> IdentitySource:
    # Imported here: google-auth is only needed when ChatOps sits behind Cloud Run IAM.
    from self_healing_service.gcp.identity import fetch_identity_token

    return lambda: fetch_identity_token(audience.rstrip("/"))


def create_app(
    settings: Settings,
    kubernetes: ClusterApi,
    store: Store,
    clock: Clock | None = None,
    *,
    verifier: TokenVerifier | None = None,
    policy: Policy | None = None,
    chatops_transport: httpx.BaseTransport | None = None,
    chatops_identity: IdentitySource | None = None,
    run_workers: bool = True,
) -> FastAPI:
    """Build the service. `run_workers=False` leaves processing to the caller (tests).
    With `chatops_auth=oidc`, `chatops_identity` supplies the ID tokens (default: google-auth)."""
    clock = clock or SystemClock()
    registry = CollectorRegistry()
    intake_seconds = Histogram(
        "heal_intake_seconds", "Time to acknowledge a notice", ["path"], registry=registry
    )
    policy = policy or Policy.load(settings.policy_file)
    healer = Healer(settings, kubernetes, store, clock, policy, PrometheusCounters(registry))
    token = settings.chatops_token.get_secret_value() if settings.chatops_token else None
    identity = None
    if settings.chatops_auth == "oidc":
        identity = chatops_identity or _google_identity(settings.chatops_url)
    outbox = Outbox(
        store, clock, settings.chatops_url, token, settings.outbox_backoff_seconds,
        settings.outbox_max_backoff_seconds, chatops_transport, identity,
    )  # fmt: skip
    worker = Worker(
        healer, outbox, settings.workers, settings.sweep_interval_seconds,
        settings.outbox_interval_seconds,
    )  # fmt: skip

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if run_workers:
            worker.start()
        log.info("self-healing service started in %s mode", healer.mode())
        yield
        worker.close()
        outbox.close()

    app = FastAPI(
        title="gke-heal self-healing service",
        version="1",
        description="Turns critical incidents into safe, verified Kubernetes fixes.",
        lifespan=lifespan,
    )
    app.state.healer, app.state.worker, app.state.outbox = healer, worker, outbox

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, error: RequestValidationError) -> JSONResponse:
        first = error.errors()[0] if error.errors() else {"loc": ["body"], "msg": "invalid"}
        where = ".".join(str(p) for p in first.get("loc", ["body"]))
        return JSONResponse({"detail": {"field": where, "reason": first.get("msg")}}, 422)

    def accept(incidents: list[Incident]) -> dict[str, Any]:
        results = []
        for incident in incidents:
            result = healer.intake(incident)
            if result == "new" and run_workers:
                worker.submit(incident.id)
            results.append({"incident_id": incident.id, "result": result})
        return {"accepted": results}

    async def intake(
        request: Request, auth: Callable[[], None], parse: Callable[[Any], list[Incident]]
    ) -> dict[str, Any]:
        started = time.perf_counter()
        auth()
        payload = await _json_body(request, settings.max_body_bytes)
        try:
            incidents = parse(payload)
        except IntakeError as error:
            raise HTTPException(422, {"field": error.field, "reason": error.reason}) from None
        answer = await run_in_threadpool(accept, incidents)
        intake_seconds.labels(request.url.path).observe(time.perf_counter() - started)
        return answer

    @app.post("/alerts/monitoring", tags=["intake"], openapi_extra=body_schema(MonitoringNotice))
    async def monitoring(request: Request) -> dict[str, Any]:
        """Cloud Monitoring webhook, incident JSON 1.2 (`?auth_token=` or HTTP Basic)."""
        return await intake(
            request, lambda: require_webhook(request, settings), lambda p: [from_monitoring(p)]
        )

    @app.post("/alerts/pubsub", tags=["intake"], openapi_extra=body_schema(PushEnvelope))
    async def pubsub(request: Request) -> dict[str, Any]:
        """Pub/Sub push of incident JSON (OIDC bearer token)."""
        return await intake(
            request, lambda: require_push(request, settings, verifier), lambda p: [from_pubsub(p)]
        )

    @app.post(
        "/alerts/alertmanager", tags=["intake"], openapi_extra=body_schema(AlertmanagerNotice)
    )
    async def alertmanager(request: Request) -> dict[str, Any]:
        """Alertmanager webhook v4 (bearer token)."""
        return await intake(
            request,
            lambda: require_bearer(request, settings.alertmanager_token, "the Alertmanager token"),
            from_alertmanager,
        )

    @app.get("/healthz", tags=["ops"])
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/metrics", tags=["ops"])
    def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    app.include_router(api_router(healer, worker if run_workers else None))
    app.include_router(web_router(store, clock))
    return app
