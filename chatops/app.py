"""The ChatOps HTTP service: `POST /notify` from the self-healing service, Slack slash commands
and buttons, Teams outgoing-webhook commands. Build it with `create_app(settings, ...)`; run it
with `uvicorn --factory chatops.app:app_from_environment`."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import time
import urllib.parse
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError

from chatops.answers import answer
from chatops.commands import Authoriser, CommandError, parse
from chatops.delivery import Courier, RetryPolicy
from chatops.healing_client import HealingClient, IdentitySource
from chatops.notification import Notification
from chatops.render import adaptive_card, slack_blocks
from chatops.settings import ChatOpsSettings
from chatops.signatures import SignatureError, verify_slack, verify_teams
from chatops.slack import SlackChannel
from chatops.store import Store
from chatops.teams import TeamsChannel
from chatops.threads import StormPolicy, Targets, ThreadPlanner

log = logging.getLogger(__name__)
# Commands that never call the healing API are answered at once, inside the 3 s ack.
_INSTANT = {"help"}
MAX_NOTIFICATION_BYTES = 1_000_000
TEAMS_DEADLINE_SECONDS = 4.0  # Teams waits 5 s for an outgoing-webhook reply
CallerCheck = Callable[[str | None], Awaitable[None]]


def _problem(status: int, reason: str) -> JSONResponse:
    return JSONResponse({"detail": reason}, status_code=status)


def _validation_reason(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors()[:5]:
        where = ".".join(str(p) for p in error["loc"]) or "body"
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts)


def _oidc_check(settings: ChatOpsSettings) -> CallerCheck:
    from chatops import gcp  # google-auth is only needed where OIDC is used

    async def check(authorization: str | None) -> None:
        try:
            await asyncio.to_thread(
                gcp.verify_caller,
                authorization,
                settings.notify_audience,
                settings.notify_service_account,
                settings.notify_certs_url,
            )
        except gcp.IdentityError as exc:
            raise PermissionError(str(exc)) from None

    return check


def _healing_identity(settings: ChatOpsSettings) -> IdentitySource:
    from chatops import gcp  # google-auth is only needed behind Cloud Run IAM

    audience = settings.healing_url.rstrip("/")
    return lambda: gcp.fetch_identity_token(audience)


def _token_check(settings: ChatOpsSettings) -> CallerCheck:
    async def check(authorization: str | None) -> None:
        expected = settings.notify_token
        if expected is None:
            raise PermissionError("no CHATOPS_NOTIFY_TOKEN configured: /notify is closed")
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise PermissionError("missing bearer token")
        if not hmac.compare_digest(token.encode(), expected.get_secret_value().encode()):
            raise PermissionError("wrong bearer token")

    return check


async def _no_check(authorization: str | None) -> None:
    return None


def create_app(
    settings: ChatOpsSettings,
    *,
    healing: HealingClient | None = None,
    slack: SlackChannel | None = None,
    teams: TeamsChannel | None = None,
    caller_check: CallerCheck | None = None,
    clock: Callable[[], float] = time.time,
    responder: httpx.AsyncClient | None = None,
) -> FastAPI:
    """A fresh ChatOps app. Clients not given are built from `settings`."""
    timeout = settings.delivery_timeout_seconds
    if slack is None and (settings.slack_bot_token or settings.slack_webhook_url):
        slack = SlackChannel(
            settings.slack_channel,
            bot_token=settings.slack_bot_token,
            webhook_url=settings.slack_webhook_url,
            api_url=settings.slack_api_url,
            timeout=timeout,
        )
    if teams is None and settings.teams_webhook_url:
        teams = TeamsChannel(settings.teams_webhook_url, timeout=timeout)
    healing = healing or HealingClient(
        settings.healing_url,
        settings.healing_token,
        settings.healing_timeout_seconds,
        identity=_healing_identity(settings) if settings.healing_iam else None,
    )
    if caller_check is None:
        caller_check = {"token": _token_check, "oidc": _oidc_check}.get(
            settings.auth, lambda _: _no_check
        )(settings)
    store = Store(settings.db_path)
    targets = Targets(
        slack_api=bool(settings.slack_bot_token and settings.slack_channel),
        slack_webhook=bool(settings.slack_webhook_url and not settings.slack_bot_token),
        teams=teams is not None,
        slack_charts=settings.slack_charts,
    )
    planner = ThreadPlanner(
        store,
        targets,
        StormPolicy(settings.storm_threshold, settings.storm_window_seconds),
        clock,
        settings.sequence_gap_wait_seconds,
        settings.public_url,
    )
    courier = Courier(
        store,
        slack,
        teams,
        RetryPolicy(
            settings.delivery_attempts,
            settings.delivery_backoff_seconds,
            settings.delivery_backoff_max_seconds,
        ),
        clock,
        before_each_round=planner.plan_ready,
    )
    authoriser = Authoriser(settings.permissions, settings.groups)
    responder = responder or httpx.AsyncClient(timeout=5.0)
    background: set[asyncio.Task[None]] = set()

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        worker = asyncio.create_task(courier.run_forever())
        try:
            yield
        finally:
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker
            for task in list(background):
                task.cancel()
            await healing.aclose()
            await responder.aclose()
            if teams is not None:
                await teams.aclose()
            store.close()

    app = FastAPI(title="gke-heal ChatOps", lifespan=lifespan)
    app.state.store = store
    app.state.courier = courier
    app.state.planner = planner

    def later(coroutine: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coroutine)
        background.add(task)
        task.add_done_callback(background.discard)

    async def respond(response_url: str, message: dict[str, Any]) -> None:
        try:
            await responder.post(response_url, json=message)
        except httpx.HTTPError as exc:
            log.warning("could not answer through response_url (%s)", type(exc).__name__)

    async def answer_later(text: str, user: str, response_url: str, in_channel: bool) -> None:
        reply = await answer(text, user, healing, authoriser)
        await respond(response_url, slack_blocks.reply_message(reply, ephemeral=not in_channel))

    @app.get("/healthz")
    async def healthz() -> dict[str, Any]:
        return {"status": "ok", "outbox": store.outbox_counts()}

    @app.post("/notify", status_code=202)
    async def notify(request: Request) -> Response:
        try:
            await caller_check(request.headers.get("Authorization"))
        except PermissionError as exc:
            return _problem(401, f"unauthenticated: {exc}")
        raw = await request.body()
        if len(raw) > MAX_NOTIFICATION_BYTES:
            return _problem(413, f"body larger than {MAX_NOTIFICATION_BYTES} bytes")
        try:
            notification = Notification.model_validate_json(raw)
        except ValidationError as exc:
            return _problem(422, f"not a gke-heal.notification/v1: {_validation_reason(exc)}")
        fresh = store.record_event(
            notification.event_id,
            notification.incident_id,
            notification.sequence,
            clock(),
            raw.decode("utf-8"),
        )
        if not fresh:
            return JSONResponse({"status": "duplicate", "event_id": notification.event_id}, 200)
        courier.wake.set()  # the courier plans the messages (charts take time) and sends them
        return JSONResponse({"status": "accepted", "event_id": notification.event_id}, 202)

    async def slack_form(request: Request) -> tuple[dict[str, str], JSONResponse | None]:
        raw = await request.body()
        secret = settings.slack_signing_secret
        if secret is None:
            return {}, _problem(503, "Slack commands are not configured (no signing secret)")
        try:
            verify_slack(secret.get_secret_value(), request.headers, raw, clock())
        except SignatureError as exc:
            return {}, _problem(401, f"bad Slack signature: {exc}")
        form = dict(urllib.parse.parse_qsl(raw.decode("utf-8", "replace")))
        return form, None

    @app.post("/slack/commands")
    async def slack_command(request: Request) -> Response:
        form, refused = await slack_form(request)
        if refused is not None:
            return refused
        user = f"slack:{form.get('user_id', '')}"
        text = form.get("text", "")
        try:
            word = parse(text).word
        except CommandError:
            word = "help"
        refusal = authoriser.refusal(user, word)
        if word in _INSTANT or refusal is not None or not form.get("response_url"):
            reply = await answer(text, user, healing, authoriser) if refusal is None else refusal
            return JSONResponse(slack_blocks.reply_message(reply))
        later(answer_later(text, user, form["response_url"], in_channel=False))
        return JSONResponse(slack_blocks.reply_message(f"Working on `{text.strip()[:100]}`…"))

    @app.post("/slack/interactions")
    async def slack_interaction(request: Request) -> Response:
        form, refused = await slack_form(request)
        if refused is not None:
            return refused
        try:
            payload = json.loads(form.get("payload", ""))
            action = payload["actions"][0]
            user = f"slack:{payload['user']['id']}"
            response_url = str(payload["response_url"])
        except (ValueError, KeyError, IndexError, TypeError):
            return _problem(400, "payload: not a block_actions payload")
        words = {
            slack_blocks.APPROVE_ACTION: "approve",
            slack_blocks.DENY_ACTION: "deny",
        }
        word = words.get(str(action.get("action_id")))
        if payload.get("type") != "block_actions" or word is None:
            return Response(status_code=200)  # link buttons also report clicks; nothing to do
        later(answer_later(f"{word} {action.get('value', '')}", user, response_url, True))
        return Response(status_code=200)

    @app.post("/teams/messages")
    async def teams_message(request: Request) -> Response:
        raw = await request.body()
        secret = settings.teams_hmac_secret
        if secret is None:
            return _problem(503, "Teams commands are not configured (no HMAC secret)")
        try:
            verify_teams(secret.get_secret_value(), request.headers, raw)
        except SignatureError as exc:
            return _problem(401, f"bad Teams signature: {exc}")
        try:
            activity = json.loads(raw)
            sender = activity.get("from") or {}
            who = sender.get("aadObjectId") or sender.get("id") or ""
            text = str(activity.get("text") or "")
        except (ValueError, AttributeError):
            return _problem(400, "body: not a Bot Framework activity")
        user = f"teams:{who}"
        try:
            reply = await asyncio.wait_for(
                answer(text, user, healing, authoriser), TEAMS_DEADLINE_SECONDS
            )
        except TimeoutError:
            reply = "The self-healing service did not answer in time; try `status` again."
        return JSONResponse(adaptive_card.reply_card(reply))

    return app


def app_from_environment() -> FastAPI:
    """The uvicorn factory: settings from CHATOPS_* variables."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    return create_app(ChatOpsSettings())
