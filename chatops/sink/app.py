"""The chat sink's HTTP app: Slack incoming webhooks, the Slack Web API methods ChatOps uses
(chat.postMessage, chat.update, files upload v2) and Teams Workflows webhooks, each validated
like the real platform would, stored, and shown at `/`."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.parse
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response

from chatops.render.validation import slack_message_problems, teams_message_problems
from chatops.sink.faults import Fault, FaultPlan
from chatops.sink.page import render_page
from chatops.sink.records import SinkRecords

DELIVERY_HEADER = "X-Gke-Heal-Delivery"


async def _fields(request: Request) -> dict[str, Any]:
    """Query string, form body and JSON body of a Slack Web API call, merged."""
    fields: dict[str, Any] = dict(request.query_params)
    raw = await request.body()
    kind = request.headers.get("content-type", "")
    if raw and "json" in kind:
        body = json.loads(raw)
        if isinstance(body, dict):
            fields.update(body)
    elif raw and "x-www-form-urlencoded" in kind:
        fields.update(dict(urllib.parse.parse_qsl(raw.decode("utf-8", "replace"))))
    return fields


def create_sink_app(
    db_path: Path | str = ":memory:",
    bot_token: str | None = None,
    faults: FaultPlan | None = None,
    clock: Callable[[], float] = time.time,
) -> FastAPI:
    """A fresh sink. `bot_token`, when set, is the only token the Web API accepts."""
    records = SinkRecords(db_path)
    plan = faults or FaultPlan()
    app = FastAPI(title="gke-heal chat sink")
    app.state.records = records
    app.state.faults = plan

    @app.middleware("http")
    async def play_faults(request: Request, call_next: Any) -> Response:
        if request.url.path.startswith(("/_sink", "/upload")) or request.method == "GET":
            return await call_next(request)  # type: ignore[no-any-return]
        fault = plan.take(request.url.path)
        if fault is not None:
            # Logged so that tests can check what the client did after each fault.
            records.log("fault", request.url.path, fault.model_dump(), [], clock())
            if fault.delay_seconds:
                await asyncio.sleep(fault.delay_seconds)
                if await request.is_disconnected():
                    # The caller gave up while we were slow: like a queueing proxy, drop it.
                    return Response(status_code=499)
            if fault.status is not None:
                headers = {}
                if fault.retry_after is not None:
                    headers["Retry-After"] = f"{fault.retry_after:g}"
                if request.url.path.startswith("/api/"):
                    error = "ratelimited" if fault.status == 429 else "internal_error"
                    return JSONResponse(
                        {"ok": False, "error": error}, fault.status, headers=headers
                    )
                return PlainTextResponse("fault", fault.status, headers=headers)
        return await call_next(request)  # type: ignore[no-any-return]

    def authorised(request: Request) -> bool:
        given = request.headers.get("Authorization", "")
        if not given.startswith("Bearer ") or len(given) <= len("Bearer "):
            return False
        return bot_token is None or given == f"Bearer {bot_token}"

    @app.post("/slack/webhook/{name:path}")
    async def slack_webhook(name: str, request: Request) -> Response:
        try:
            body = json.loads(await request.body())
        except ValueError:
            return PlainTextResponse("invalid_payload", 400)
        problems = slack_message_problems(body)
        ts = None if problems else records.next_ts(clock())
        records.log("slack", "webhook", body, problems, clock(), _delivery(request), ts)
        if problems:
            return PlainTextResponse("invalid_blocks", 400)
        records.post(str(ts), "slack", f"webhook:{name}", None, body, clock())
        return PlainTextResponse("ok")

    @app.post("/slack/responses/{key}")
    async def slack_response(key: str, request: Request) -> Response:
        body = json.loads(await request.body() or b"{}")
        problems = slack_message_problems(body)
        ts = records.next_ts(clock())
        records.log("slack", "response", body, problems, clock(), key, ts)
        if problems:
            return PlainTextResponse("invalid_blocks", 400)
        records.post(ts, "slack", f"response:{key}", None, body, clock())
        return PlainTextResponse("ok")

    @app.post("/api/chat.postMessage")
    async def post_message(request: Request) -> Response:
        if not authorised(request):
            return JSONResponse({"ok": False, "error": "invalid_auth"})
        fields = await _fields(request)
        channel = str(fields.get("channel", ""))
        if not channel:
            return JSONResponse({"ok": False, "error": "channel_not_found"})
        problems = slack_message_problems(_message_part(fields))
        ts = None if problems else records.next_ts(clock())
        records.log("slack", "chat.postMessage", fields, problems, clock(), _delivery(request), ts)
        if problems:
            return JSONResponse({"ok": False, "error": "invalid_blocks", "errors": problems})
        thread = fields.get("thread_ts") or None
        records.post(str(ts), "slack", channel, thread, _message_part(fields), clock())
        return JSONResponse({"ok": True, "channel": channel, "ts": ts, "message": fields})

    @app.post("/api/chat.update")
    async def update_message(request: Request) -> Response:
        if not authorised(request):
            return JSONResponse({"ok": False, "error": "invalid_auth"})
        fields = await _fields(request)
        problems = slack_message_problems(_message_part(fields))
        ts = str(fields.get("ts", ""))
        records.log("slack", "chat.update", fields, problems, clock(), _delivery(request), ts)
        if problems:
            return JSONResponse({"ok": False, "error": "invalid_blocks", "errors": problems})
        if not records.update(ts, _message_part(fields)):
            return JSONResponse({"ok": False, "error": "message_not_found"})
        return JSONResponse({"ok": True, "channel": fields.get("channel"), "ts": ts})

    @app.post("/api/files.getUploadURLExternal")
    async def upload_url(request: Request) -> Response:
        if not authorised(request):
            return JSONResponse({"ok": False, "error": "invalid_auth"})
        fields = await _fields(request)
        file_id = "F" + uuid.uuid4().hex[:10].upper()
        records.save_file(file_id, str(fields.get("filename", "file")), None)
        url = str(request.base_url).rstrip("/") + f"/upload/{file_id}"
        return JSONResponse({"ok": True, "upload_url": url, "file_id": file_id})

    @app.post("/upload/{file_id}")
    async def upload(file_id: str, request: Request) -> Response:
        known = records.file(file_id)
        if known is None:
            return PlainTextResponse("unknown file", 404)
        records.save_file(file_id, known["filename"], await request.body())
        return PlainTextResponse(f"OK - {len(await request.body())}")

    @app.post("/api/files.completeUploadExternal")
    async def complete_upload(request: Request) -> Response:
        if not authorised(request):
            return JSONResponse({"ok": False, "error": "invalid_auth"})
        fields = await _fields(request)
        files = json.loads(str(fields.get("files", "[]")))
        stored = []
        for item in files:
            known = records.file(str(item.get("id")))
            if known is None or not known["content"]:
                return JSONResponse({"ok": False, "error": "file_not_found"})
            stored.append({"id": item["id"], "title": item.get("title", known["filename"])})
        ts = records.next_ts(clock())
        body = {"text": f"uploaded {', '.join(f['title'] for f in stored)}", "files": stored}
        records.log("slack", "files.completeUploadExternal", fields, [], clock(), None, ts)
        channel = str(fields.get("channel_id", ""))
        records.post(ts, "slack", channel, fields.get("thread_ts") or None, body, clock())
        return JSONResponse({"ok": True, "files": stored})

    @app.post("/teams/workflows/{name:path}")
    async def teams_workflow(name: str, request: Request) -> Response:
        try:
            body = json.loads(await request.body())
        except ValueError:
            return JSONResponse({"error": "body is not JSON"}, 400)
        problems = teams_message_problems(body)
        ts = None if problems else records.next_ts(clock())
        records.log("teams", "workflow", body, problems, clock(), _delivery(request), ts)
        if problems:
            return JSONResponse(
                {"error": "invalid Adaptive Card message", "problems": problems}, 400
            )
        records.post(str(ts), "teams", f"workflow:{name}", None, body, clock())
        return Response(status_code=202)  # Workflows answer 202 Accepted

    @app.get("/", response_class=HTMLResponse)
    async def page() -> str:
        return render_page(records.messages())

    @app.get("/_sink/messages")
    async def messages() -> list[dict[str, Any]]:
        return records.messages()

    @app.get("/_sink/requests")
    async def requests() -> list[dict[str, Any]]:
        return records.requests()

    @app.post("/_sink/faults")
    async def add_faults(faults: list[Fault]) -> dict[str, int]:
        plan.add(*faults)
        return {"pending": plan.pending()}

    @app.delete("/_sink/faults")
    async def clear_faults() -> dict[str, int]:
        plan.clear()
        return {"pending": 0}

    return app


def _delivery(request: Request) -> str | None:
    return request.headers.get(DELIVERY_HEADER)


def _message_part(fields: dict[str, Any]) -> dict[str, Any]:
    """The part of a Web API call that is the message (text, blocks), as Block Kit sees it."""
    message: dict[str, Any] = {}
    for key in ("text", "blocks"):
        value = fields.get(key)
        if isinstance(value, str) and key == "blocks":
            value = json.loads(value)
        if value is not None:
            message[key] = value
    return message
