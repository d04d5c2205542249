"""The outbox tables of the SQLite store: notifications queued in the same transaction as the
change they announce, claimed with a lease, delivered head-first per incident."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import uuid

from self_healing_service.store.base import Delivery, Json


class SqliteOutbox:
    """Mixed into `SqliteStore`, which provides the connection and transactions."""

    def _db(self) -> sqlite3.Connection:
        raise NotImplementedError

    def _tx(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        raise NotImplementedError

    # outbox --------------------------------------------------------------------------------
    def enqueue(self, incident_id: str, payload: Json, now: float) -> Json:
        with self._tx() as db:
            return self._enqueue(db, incident_id, payload, now)

    @staticmethod
    def _enqueue(db: sqlite3.Connection, incident_id: str, payload: Json, now: float) -> Json:
        row = db.execute(
            "SELECT COALESCE(MAX(sequence), 0) + 1 AS n FROM outbox WHERE incident_id=?",
            (incident_id,),
        ).fetchone()
        event = {**payload, "event_id": str(uuid.uuid4()), "sequence": int(row["n"])}
        db.execute(
            "INSERT INTO outbox (event_id, incident_id, sequence, payload, status, next_at,"
            " created_at) VALUES (?,?,?,?,?,?,?)",
            (
                event["event_id"],
                incident_id,
                event["sequence"],
                json.dumps(event),
                "pending",
                now,
                now,
            ),
        )
        return event

    def due(self, now: float, lease: float, limit: int = 50) -> list[Delivery]:
        """Claim up to `limit` due deliveries for `lease` seconds (other replicas skip them)."""
        with self._tx() as db:
            rows = db.execute(
                # Only the head of each incident's queue: ChatOps sees each incident in order.
                "SELECT * FROM outbox WHERE status='pending' AND next_at <= ? AND lease_until < ?"
                " AND NOT EXISTS (SELECT 1 FROM outbox AS earlier WHERE earlier.incident_id ="
                " outbox.incident_id AND earlier.status = 'pending'"
                " AND earlier.sequence < outbox.sequence)"
                " ORDER BY created_at, sequence LIMIT ?",
                (now, now, limit),
            ).fetchall()
            for r in rows:
                db.execute(
                    "UPDATE outbox SET lease_until=? WHERE event_id=?", (now + lease, r["event_id"])
                )
        return [
            Delivery(r["event_id"], r["incident_id"], r["sequence"], json.loads(r["payload"]),
                     r["attempts"])
            for r in rows
        ]  # fmt: skip

    def delivered(self, event_id: str, now: float) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE outbox SET status='delivered', delivered_at=?, attempts=attempts+1,"
                " lease_until=0 WHERE event_id=?",
                (now, event_id),
            )

    def failed(self, event_id: str, next_at: float, error: str) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE outbox SET attempts=attempts+1, next_at=?, lease_until=0, last_error=?"
                " WHERE event_id=?",
                (next_at, error[:500], event_id),
            )

    def outbox_counts(self) -> dict[str, int]:
        rows = self._db().execute("SELECT status, COUNT(*) AS n FROM outbox GROUP BY status")
        return {r["status"]: int(r["n"]) for r in rows}
