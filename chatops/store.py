"""The ChatOps SQLite store (WAL): received events (dedupe on event_id), per-incident thread
state, storms, and the outbox of messages still to deliver."""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    event_id TEXT PRIMARY KEY,
    incident_id TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    received_at REAL NOT NULL,
    payload TEXT NOT NULL,
    planned INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS events_by_incident ON events (incident_id, planned, sequence);
CREATE TABLE IF NOT EXISTS incidents (
    incident_id TEXT PRIMARY KEY,
    opened_at REAL NOT NULL,
    last_sequence INTEGER,
    slack_ts TEXT,
    storm_id TEXT,
    timeline TEXT NOT NULL DEFAULT '[]',
    line TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS storms (
    storm_id TEXT PRIMARY KEY,
    started_at REAL NOT NULL,
    last_added_at REAL NOT NULL,
    slack_ts TEXT
);
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    target TEXT NOT NULL,
    operation TEXT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL,
    delivered_at REAL
);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (status, id);
"""


@dataclass(frozen=True)
class OutboxItem:
    id: int
    incident_id: str
    sequence: int
    target: str
    operation: str
    body: dict[str, Any]
    attempts: int
    next_attempt_at: float


class Store:
    """One SQLite connection shared by the request handlers and the delivery worker."""

    def __init__(self, path: Path | str) -> None:
        self._lock = threading.RLock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        if str(path) != ":memory:":
            self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def execute(self, sql: str, args: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    # --- events
    def record_event(
        self, event_id: str, incident_id: str, sequence: int, now: float, payload: str
    ) -> bool:
        """True when the event is new; False when this event_id was seen before."""
        with self._lock:
            cursor = self._db.execute(
                "INSERT OR IGNORE INTO events (event_id, incident_id, sequence, received_at, payload)"
                " VALUES (?, ?, ?, ?, ?)",
                (event_id, incident_id, sequence, now, payload),
            )
            return cursor.rowcount == 1

    def unplanned(self) -> list[sqlite3.Row]:
        """Unplanned events: incidents in order of first arrival, each in sequence order."""
        return self.execute(
            "SELECT e.* FROM events e JOIN (SELECT incident_id, MIN(received_at) AS first"
            " FROM events WHERE planned = 0 GROUP BY incident_id) f USING (incident_id)"
            " WHERE e.planned = 0 ORDER BY f.first, e.incident_id, e.sequence"
        )

    def mark_planned(self, event_id: str) -> None:
        self.execute("UPDATE events SET planned = 1 WHERE event_id = ?", (event_id,))

    # --- incidents
    def incident(self, incident_id: str) -> sqlite3.Row | None:
        rows = self.execute("SELECT * FROM incidents WHERE incident_id = ?", (incident_id,))
        return rows[0] if rows else None

    def open_incident(self, incident_id: str, now: float) -> None:
        self.execute(
            "INSERT OR IGNORE INTO incidents (incident_id, opened_at) VALUES (?, ?)",
            (incident_id, now),
        )

    def update_incident(self, incident_id: str, **fields: Any) -> None:
        columns = ", ".join(f"{name} = ?" for name in fields)
        values = tuple(json.dumps(v) if isinstance(v, list) else v for v in fields.values())
        self.execute(
            f"UPDATE incidents SET {columns} WHERE incident_id = ?", (*values, incident_id)
        )

    def opened_since(self, since: float) -> int:
        rows = self.execute("SELECT COUNT(*) AS n FROM incidents WHERE opened_at >= ?", (since,))
        return int(rows[0]["n"])

    # --- storms
    def active_storm(self, since: float) -> sqlite3.Row | None:
        rows = self.execute(
            "SELECT * FROM storms WHERE last_added_at >= ? ORDER BY started_at DESC LIMIT 1",
            (since,),
        )
        return rows[0] if rows else None

    def start_storm(self, storm_id: str, now: float) -> None:
        self.execute(
            "INSERT INTO storms (storm_id, started_at, last_added_at) VALUES (?, ?, ?)",
            (storm_id, now, now),
        )

    def storm_members(self, storm_id: str) -> list[sqlite3.Row]:
        return self.execute(
            "SELECT * FROM incidents WHERE storm_id = ? ORDER BY opened_at, incident_id",
            (storm_id,),
        )

    # --- outbox
    def enqueue(
        self,
        incident_id: str,
        sequence: int,
        target: str,
        operation: str,
        body: dict[str, Any],
        now: float,
    ) -> int:
        with self._lock:
            cursor = self._db.execute(
                "INSERT INTO outbox (incident_id, sequence, target, operation, body, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (incident_id, sequence, target, operation, json.dumps(body), now),
            )
            return int(cursor.lastrowid or 0)

    def next_pending(self) -> OutboxItem | None:
        """The oldest undelivered message: delivery is strictly first in, first out."""
        rows = self.execute("SELECT * FROM outbox WHERE status = 'pending' ORDER BY id LIMIT 1")
        if not rows:
            return None
        row = rows[0]
        return OutboxItem(
            id=row["id"],
            incident_id=row["incident_id"],
            sequence=row["sequence"],
            target=row["target"],
            operation=row["operation"],
            body=json.loads(row["body"]),
            attempts=row["attempts"],
            next_attempt_at=row["next_attempt_at"],
        )

    def delivered(self, item_id: int, now: float) -> None:
        self.execute(
            "UPDATE outbox SET status = 'sent', attempts = attempts + 1, delivered_at = ?"
            " WHERE id = ?",
            (now, item_id),
        )

    def retry_later(self, item_id: int, at: float, reason: str) -> None:
        self.execute(
            "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ?"
            " WHERE id = ?",
            (at, reason, item_id),
        )

    def give_up(self, item_id: int, reason: str) -> None:
        self.execute(
            "UPDATE outbox SET status = 'failed', attempts = attempts + 1, last_error = ?"
            " WHERE id = ?",
            (reason, item_id),
        )

    def outbox_counts(self) -> dict[str, int]:
        rows = self.execute("SELECT status, COUNT(*) AS n FROM outbox GROUP BY status")
        counts = {"pending": 0, "sent": 0, "failed": 0}
        counts.update({row["status"]: int(row["n"]) for row in rows})
        return counts
