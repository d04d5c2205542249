"""How one delivery attempt to a chat platform can fail: retry later (with an optional
Retry-After) or give up. Messages never contain URLs, tokens or response bodies with secrets."""

from __future__ import annotations


class TemporaryFailure(Exception):
    """Worth retrying: 429, 5xx, timeouts, refused connections."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class PermanentFailure(Exception):
    """Retrying cannot help (a 4xx other than 429, a payload the platform rejects)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds form; Slack and Workflows use it)."""
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return max(0.0, seconds)
