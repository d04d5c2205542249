"""RFC 3339 timestamps ↔ seconds since the epoch, cached because many series share one instant."""

from __future__ import annotations

from datetime import UTC, datetime

_CACHE: dict[str, float] = {}
_CACHE_LIMIT = 65_536


class TimestampError(ValueError):
    """A timestamp is not RFC 3339."""


def parse_rfc3339(text: str) -> float:
    """Seconds since the epoch of an RFC 3339 timestamp (`Z` or an offset is required)."""
    cached = _CACHE.get(text)
    if cached is not None:
        return cached
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise TimestampError(f"{text!r} is not an RFC 3339 timestamp") from None
    if parsed.tzinfo is None:
        raise TimestampError(f"{text!r} has no time zone")
    seconds = parsed.timestamp()
    if len(_CACHE) >= _CACHE_LIMIT:
        _CACHE.clear()
    _CACHE[text] = seconds
    return seconds


def format_rfc3339(seconds: float) -> str:
    """RFC 3339 in UTC ending in `Z`; whole seconds unless there is a fraction."""
    moment = datetime.fromtimestamp(seconds, tz=UTC)
    if moment.microsecond:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
