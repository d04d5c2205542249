"""Teams delivery: POST an Adaptive Card message to a Workflows webhook ("When a Teams webhook
request is received"). Workflows cannot update or thread a message; each call is a new post."""

from __future__ import annotations

from typing import Any

import httpx
from pydantic import SecretStr

from chatops.outcomes import PermanentFailure, TemporaryFailure, parse_retry_after
from chatops.redaction import redact

DELIVERY_HEADER = "X-Gke-Heal-Delivery"


class TeamsChannel:
    """One Workflows webhook. The URL carries a signature, so it is a secret and never logged."""

    def __init__(
        self,
        webhook_url: SecretStr,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._url = webhook_url
        redact(webhook_url.get_secret_value())
        self._http = httpx.AsyncClient(timeout=timeout, transport=transport)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def post(self, message: dict[str, Any], delivery_id: str) -> None:
        try:
            response = await self._http.post(
                self._url.get_secret_value(),
                json=message,
                headers={DELIVERY_HEADER: delivery_id},
            )
        except httpx.TimeoutException:
            raise TemporaryFailure("Teams webhook timed out") from None
        except httpx.TransportError as exc:
            raise TemporaryFailure(f"Teams webhook unreachable ({type(exc).__name__})") from None
        status = response.status_code
        if status < 300:
            return
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        if status == 429 or status >= 500:
            raise TemporaryFailure(f"Teams webhook answered HTTP {status}", retry_after)
        raise PermanentFailure(f"Teams webhook refused the message (HTTP {status})")
