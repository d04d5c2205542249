"""HTTP client for the self-healing service API (docs/contracts.md §7). The app's bearer token
goes in `Authorization`; behind Cloud Run IAM a Google ID token for the service also goes in
`X-Serverless-Authorization` (Cloud Run checks that one and passes `Authorization` on)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx
from pydantic import SecretStr

# Returns a fresh ID token and its expiry (Unix seconds); chatops.gcp provides one.
IdentitySource = Callable[[], tuple[str, float]]

# A token this close to its expiry is replaced, so it never expires in flight.
REFRESH_MARGIN_SECONDS = 120.0


class HealingError(Exception):
    """The healing API refused or could not be reached; `status` is the HTTP status or 0."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class HealingClient:
    """Calls the healing API with a bearer token (and, given `identity`, an ID token for Cloud
    Run IAM); the transport, identity source and clock are injectable for tests."""

    def __init__(
        self,
        base_url: str,
        token: SecretStr | None,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
        identity: IdentitySource | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        headers = {"Authorization": f"Bearer {token.get_secret_value()}"} if token else {}
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"), headers=headers, timeout=timeout, transport=transport
        )
        self._identity = identity
        self._clock = clock
        self._id_token = ""
        self._id_expires_at = 0.0
        self._id_lock = asyncio.Lock()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _iam_headers(self) -> dict[str, str]:
        if self._identity is None:
            return {}
        async with self._id_lock:
            if not self._id_token or self._clock() >= self._id_expires_at - REFRESH_MARGIN_SECONDS:
                try:
                    # The metadata server call blocks; keep the event loop free.
                    self._id_token, self._id_expires_at = await asyncio.to_thread(self._identity)
                except Exception as exc:  # pluggable source: any failure is "cannot reach it"
                    raise HealingError(
                        0, f"no identity token for the self-healing service ({type(exc).__name__})"
                    ) from None
            return {"X-Serverless-Authorization": f"Bearer {self._id_token}"}

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = await self._iam_headers()
        try:
            response = await self._http.request(method, f"/api/v1{path}", headers=headers, **kwargs)
        except httpx.HTTPError as exc:
            # The exception text may hold the URL but never the token (it is a header).
            raise HealingError(
                0, f"the self-healing service is unreachable ({type(exc).__name__})"
            ) from None
        if response.status_code >= 400:
            raise HealingError(response.status_code, _reason(response))
        if not response.content:
            return {}
        return response.json()

    async def status(self) -> dict[str, Any]:
        return dict(await self._call("GET", "/status"))

    async def incidents(self, state: str = "open") -> list[dict[str, Any]]:
        return list(await self._call("GET", "/incidents", params={"state": state}))

    async def incident(self, incident_id: str) -> dict[str, Any]:
        return dict(await self._call("GET", f"/incidents/{incident_id}"))

    async def approve(self, incident_id: str, user: str, comment: str = "") -> dict[str, Any]:
        return dict(
            await self._call("POST", f"/incidents/{incident_id}/approve", json=_who(user, comment))
        )

    async def deny(self, incident_id: str, user: str, comment: str = "") -> dict[str, Any]:
        return dict(
            await self._call("POST", f"/incidents/{incident_id}/deny", json=_who(user, comment))
        )

    async def pause(self, user: str) -> dict[str, Any]:
        return dict(await self._call("POST", "/pause", json={"user": user}))

    async def resume(self, user: str) -> dict[str, Any]:
        return dict(await self._call("POST", "/resume", json={"user": user}))

    async def set_mode(self, mode: str, user: str) -> dict[str, Any]:
        return dict(await self._call("PUT", "/mode", json={"mode": mode, "user": user}))

    async def silence(self, workload: str, duration_seconds: int, user: str) -> dict[str, Any]:
        body = {"workload": workload, "duration_seconds": duration_seconds, "user": user}
        return dict(await self._call("POST", "/silences", json=body))

    async def history(self, workload: str) -> list[dict[str, Any]]:
        return list(await self._call("GET", "/history", params={"workload": workload}))


def _who(user: str, comment: str) -> dict[str, str]:
    return {"user": user, "comment": comment} if comment else {"user": user}


def _reason(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300] or response.reason_phrase
    if isinstance(body, dict):
        detail = body.get("detail")
        if isinstance(detail, dict) and "reason" in detail:
            field = f"{detail['field']}: " if detail.get("field") else ""
            return f"{field}{detail['reason']}"
        for key in ("detail", "reason", "message", "error"):
            if isinstance(body.get(key), str):
                return str(body[key])
        return str(body.get("detail", body))[:300]
    return str(body)[:300]
