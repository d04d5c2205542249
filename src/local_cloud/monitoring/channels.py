"""Notification channels: how an incident notice leaves, in the shapes Cloud Monitoring uses.

- `webhook_tokenauth`: POST of the incident JSON to a URL carrying `?auth_token=`;
- `webhook_basicauth`: the same with HTTP Basic credentials;
- `pubsub` through a push subscription: the Pub/Sub push envelope (`message.data` = base64 of
  the incident JSON) POSTed to the push endpoint, as Pub/Sub delivers it;
- `pubsub` through the Pub/Sub emulator: published with the emulator's REST `topics.publish`.
"""

from __future__ import annotations

import base64
import itertools
import json
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
from pydantic import SecretStr

from local_cloud.clock import rfc3339


class DeliveryFailed(Exception):
    """A delivery attempt failed in a way worth retrying (transport error or non-2xx answer)."""


class NotificationChannel(Protocol):
    """Something that can carry one incident notice; raises `DeliveryFailed` to be retried."""

    name: str

    def deliver(self, payload: dict[str, Any], client: httpx.Client, now: float) -> int:
        """Send the notice; return the HTTP status of the accepted delivery."""
        ...


def _post(client: httpx.Client, url: str, **kwargs: Any) -> int:
    try:
        response = client.post(url, **kwargs)
    except httpx.HTTPError as exc:
        raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from exc
    if not 200 <= response.status_code < 300:
        raise DeliveryFailed(f"HTTP {response.status_code}")
    return response.status_code


@dataclass
class WebhookChannel:
    """`webhook_tokenauth` (token in `?auth_token=`) or `webhook_basicauth` (HTTP Basic)."""

    url: str
    name: str = "webhook"
    auth_token: SecretStr | None = None
    username: str | None = None
    password: SecretStr | None = None

    def __post_init__(self) -> None:
        if self.auth_token is not None and self.username is not None:
            raise ValueError("a webhook channel uses either token auth or basic auth, not both")
        if (self.username is None) != (self.password is None):
            raise ValueError("basic auth needs both username and password")

    def target(self) -> str:
        """The URL posted to, with the token in the query string (Cloud cannot add headers)."""
        if self.auth_token is None:
            return self.url
        parts = urlsplit(self.url)
        query = [(k, v) for k, v in parse_qsl(parts.query) if k != "auth_token"]
        query.append(("auth_token", self.auth_token.get_secret_value()))
        return urlunsplit(parts._replace(query=urlencode(query)))

    def deliver(self, payload: dict[str, Any], client: httpx.Client, now: float) -> int:
        auth = None
        if self.username is not None and self.password is not None:
            auth = httpx.BasicAuth(self.username, self.password.get_secret_value())
        return _post(client, self.target(), json=payload, auth=auth)

    def __repr__(self) -> str:  # the URL may carry the token: never print it
        return f"WebhookChannel(name={self.name!r}, url={urlsplit(self.url).netloc!r})"


_message_ids = itertools.count(1)


def pubsub_message(
    payload: dict[str, Any], now: float, attributes: dict[str, str]
) -> dict[str, Any]:
    """A Pub/Sub `PubsubMessage` as push delivers it (both camelCase and snake_case ids)."""
    message_id = str(next(_message_ids))
    published = rfc3339(now)
    return {
        "data": base64.b64encode(json.dumps(payload).encode()).decode(),
        "attributes": dict(attributes),
        "messageId": message_id,
        "message_id": message_id,
        "publishTime": published,
        "publish_time": published,
    }


@dataclass
class PubSubPushChannel:
    """A `pubsub` channel whose topic has a push subscription to `endpoint`."""

    endpoint: str
    subscription: str = "projects/local-project/subscriptions/alerts-to-selfheal"
    name: str = "pubsub-push"
    attributes: dict[str, str] = field(default_factory=dict)
    # The emulator sends no Authorization header; a bearer token stands in for OIDC locally.
    bearer_token: SecretStr | None = None

    def envelope(self, payload: dict[str, Any], now: float) -> dict[str, Any]:
        return {
            "message": pubsub_message(payload, now, self.attributes),
            "subscription": self.subscription,
        }

    def deliver(self, payload: dict[str, Any], client: httpx.Client, now: float) -> int:
        headers = {}
        if self.bearer_token is not None:
            headers["Authorization"] = f"Bearer {self.bearer_token.get_secret_value()}"
        return _post(client, self.endpoint, json=self.envelope(payload, now), headers=headers)


@dataclass
class PubSubEmulatorChannel:
    """A `pubsub` channel publishing to a topic of the Pub/Sub emulator (REST API)."""

    emulator_host: str  # "127.0.0.1:8085", as in PUBSUB_EMULATOR_HOST
    topic: str  # "projects/P/topics/T"
    name: str = "pubsub-emulator"

    def deliver(self, payload: dict[str, Any], client: httpx.Client, now: float) -> int:
        message = {"data": base64.b64encode(json.dumps(payload).encode()).decode()}
        url = f"http://{self.emulator_host}/v1/{self.topic}:publish"
        return _post(client, url, json={"messages": [message]})
