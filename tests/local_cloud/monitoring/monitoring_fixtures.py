"""Shared shapes of the Monitoring stand-in's tests: recorded requests and the series factory type."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

ANOMALY = "custom.googleapis.com/anomaly/score"

SeriesFactory = Callable[..., dict[str, Any]]


@dataclass
class Received:
    """One request a receiver got."""

    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class Receiver:
    """A loopback HTTP server that records requests and fails the first `fail_next` of them."""

    url: str
    requests: list[Received] = field(default_factory=list)
    fail_next: int = 0
    fail_status: int = 503
