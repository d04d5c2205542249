"""When a message is too late to count: its event time is further behind its arrival than a
window plus the allowed lateness. Such a message becomes a dead letter, never a silent drop.

Arrival is what the transport says: the Pub/Sub publish time, or a log entry's
`receiveTimestamp`; a message with no arrival time is judged by the runner's watermark alone.
"""

from __future__ import annotations

import json
from typing import Any

from telemetry_pipeline.records import DeadLetter, LogRecord, MetricPoint
from telemetry_pipeline.timestamps import format_rfc3339, parse_rfc3339


def arrival_of(item: MetricPoint | LogRecord, published: float | None = None) -> float | None:
    """The arrival time of a parsed message: publish time if known, else `receiveTimestamp`."""
    if published is not None:
        return published
    if isinstance(item, LogRecord):
        received = item.row.get("receiveTimestamp")
        if isinstance(received, str):
            return parse_rfc3339(received)
    return None


def late_letter(
    item: MetricPoint | LogRecord,
    arrival: float | None,
    window_seconds: float,
    allowed_lateness: float,
) -> DeadLetter | None:
    """A dead letter if the item arrived after its window and the allowed lateness had passed."""
    if arrival is None:
        return None
    start = item.time - item.time % window_seconds
    deadline = start + window_seconds + allowed_lateness
    if arrival <= deadline:
        return None
    kind = "metric" if isinstance(item, MetricPoint) else "log"
    payload: dict[str, Any] = item.to_row()
    return DeadLetter(
        kind,
        f"late: event at {format_rfc3339(item.time)} arrived {arrival - deadline:.0f}s after "
        f"its window closed (allowed lateness {allowed_lateness:g}s)",
        json.dumps(payload, default=str),
        arrival,
    )
