"""Slack delivery with the official slack_sdk (the only module importing it): incoming
webhooks, and the Web API's chat.postMessage, chat.update and file upload. Every failure is
turned into a TemporaryFailure or PermanentFailure whose text holds no token or URL."""

from __future__ import annotations

import logging
import urllib.error
from typing import Any

from pydantic import SecretStr
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web import WebClient
from slack_sdk.webhook import WebhookClient

from chatops.outcomes import PermanentFailure, TemporaryFailure, parse_retry_after
from chatops.redaction import redact

# slack_sdk logs request URLs at DEBUG (a webhook URL is a secret): keep its logger quiet.
_SDK_LOG = logging.getLogger("chatops.slack.sdk")
_SDK_LOG.setLevel(logging.WARNING)
_SDK_LOG.propagate = False
_SDK_LOG.addHandler(logging.NullHandler())

DELIVERY_HEADER = "X-Gke-Heal-Delivery"
# Slack error codes after which a retry can succeed.
_TEMPORARY_ERRORS = {"ratelimited", "rate_limited", "service_unavailable", "request_timeout",
                     "internal_error", "fatal_error"}  # fmt: skip


def _from_response(status: int, headers: Any, error: str) -> Exception:
    retry_after = parse_retry_after(_header(headers, "Retry-After"))
    if status == 429 or error in _TEMPORARY_ERRORS:
        return TemporaryFailure(f"Slack rate limited (HTTP {status})", retry_after)
    if status >= 500:
        return TemporaryFailure(f"Slack answered HTTP {status}", retry_after)
    return PermanentFailure(f"Slack refused the message (HTTP {status}, {error or 'no reason'})")


def _header(headers: Any, name: str) -> str | None:
    if not headers:
        return None
    for key, value in dict(headers).items():
        if str(key).lower() == name.lower():
            return str(value[0] if isinstance(value, list) else value)
    return None


class SlackChannel:
    """Posts to one Slack channel through the Web API (bot token) or an incoming webhook."""

    def __init__(
        self,
        channel: str,
        bot_token: SecretStr | None = None,
        webhook_url: SecretStr | None = None,
        api_url: str = "https://slack.com/api/",
        timeout: float = 10.0,
    ) -> None:
        self.channel = channel
        self._timeout = timeout
        self._web = (
            WebClient(
                token=bot_token.get_secret_value(),
                base_url=api_url if api_url.endswith("/") else api_url + "/",
                timeout=int(max(1, timeout)),
                logger=_SDK_LOG,
                retry_handlers=[],  # chatops.delivery owns retries (and honours Retry-After)
            )
            if bot_token
            else None
        )
        self._webhook_url = webhook_url
        for secret in (bot_token, webhook_url):
            if secret is not None:
                redact(secret.get_secret_value())
        if self._web is not None:
            # urllib only accepts whole seconds through slack_sdk; sub-second timeouts come here.
            self._web.timeout = timeout  # type: ignore[assignment]

    def _api(self, method: str, body: dict[str, Any], delivery_id: str) -> dict[str, Any]:
        if self._web is None:
            raise PermanentFailure("no Slack bot token configured")
        try:
            response = self._web.api_call(method, json=body, headers={DELIVERY_HEADER: delivery_id})
        except SlackApiError as exc:
            data = exc.response.data if isinstance(exc.response.data, dict) else {}
            raise _from_response(
                exc.response.status_code, exc.response.headers, str(data.get("error", ""))
            ) from None
        except (TimeoutError, urllib.error.URLError, ConnectionError) as exc:
            raise TemporaryFailure(f"Slack unreachable ({type(exc).__name__})") from None
        except SlackRequestError as exc:
            raise PermanentFailure(f"Slack request invalid ({type(exc).__name__})") from None
        return dict(response.data) if isinstance(response.data, dict) else {}

    def post(
        self,
        message: dict[str, Any],
        delivery_id: str,
        thread_ts: str | None = None,
        broadcast: bool = False,
    ) -> str:
        """chat.postMessage; returns the message `ts` (the thread key)."""
        body = {"channel": self.channel, **message}
        body.pop("response_type", None)
        if thread_ts:
            body["thread_ts"] = thread_ts
            if broadcast:
                body["reply_broadcast"] = True
        data = self._api("chat.postMessage", body, delivery_id)
        return str(data.get("ts", ""))

    def update(self, ts: str, message: dict[str, Any], delivery_id: str) -> None:
        """chat.update of an earlier message, in place."""
        body = {"channel": self.channel, "ts": ts, **message}
        self._api("chat.update", body, delivery_id)

    def upload(self, png: bytes, title: str, thread_ts: str | None) -> None:
        """files_upload_v2 of the chart into the incident's thread."""
        if self._web is None:
            raise PermanentFailure("no Slack bot token configured")
        try:
            self._web.files_upload_v2(
                content=png,
                filename="signal.png",
                title=title,
                channel=self.channel,
                thread_ts=thread_ts,
            )
        except SlackApiError as exc:
            data = exc.response.data if isinstance(exc.response.data, dict) else {}
            raise _from_response(
                exc.response.status_code, exc.response.headers, str(data.get("error", ""))
            ) from None
        except (TimeoutError, urllib.error.URLError, ConnectionError) as exc:
            raise TemporaryFailure(f"Slack unreachable ({type(exc).__name__})") from None
        except SlackRequestError as exc:
            raise PermanentFailure(f"Slack upload invalid ({type(exc).__name__})") from None

    def webhook(self, message: dict[str, Any], delivery_id: str) -> None:
        """POST to the incoming webhook (no threads, no updates: webhooks cannot)."""
        if self._webhook_url is None:
            raise PermanentFailure("no Slack webhook URL configured")
        client = WebhookClient(
            url=self._webhook_url.get_secret_value(),
            timeout=int(max(1, self._timeout)),
            logger=_SDK_LOG,
            retry_handlers=[],
            default_headers={DELIVERY_HEADER: delivery_id},
        )
        client.timeout = self._timeout  # type: ignore[assignment]
        try:
            response = client.send_dict(message)
        except (TimeoutError, urllib.error.URLError, ConnectionError) as exc:
            raise TemporaryFailure(f"Slack webhook unreachable ({type(exc).__name__})") from None
        if response.status_code >= 300:
            raise _from_response(response.status_code, response.headers, response.body[:100])
