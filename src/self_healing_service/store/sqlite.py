"""The store on one SQLite file in WAL mode: several threads and several processes share it;
every claim and budget check is one `BEGIN IMMEDIATE` transaction."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

from self_healing_service.guardrails import Limits
from self_healing_service.history import ActionRecord, ApprovalRecord, History, Mode
from self_healing_service.incidents import Incident, to_record
from self_healing_service.store.base import ACTIVE, Json, NoticeResult, Refused
from self_healing_service.store.sqlite_outbox import SqliteOutbox

SCHEMA = """
CREATE TABLE IF NOT EXISTS incidents (
  id TEXT PRIMARY KEY, status TEXT NOT NULL, state TEXT NOT NULL, workload TEXT NOT NULL,
  issue TEXT NOT NULL, data TEXT NOT NULL, rung INTEGER NOT NULL DEFAULT 0,
  notices INTEGER NOT NULL DEFAULT 1, next_at REAL NOT NULL DEFAULT 0,
  lease_owner TEXT, lease_until REAL NOT NULL DEFAULT 0,
  opened_at REAL NOT NULL, updated_at REAL NOT NULL, closed_at REAL);
CREATE INDEX IF NOT EXISTS incidents_status ON incidents(status, next_at);
CREATE TABLE IF NOT EXISTS actions (
  incident_id TEXT NOT NULL, rung INTEGER NOT NULL, action TEXT NOT NULL, target TEXT NOT NULL,
  pool TEXT NOT NULL DEFAULT '', status TEXT NOT NULL, started_at REAL NOT NULL,
  finished_at REAL, planned TEXT NOT NULL DEFAULT '{}', PRIMARY KEY (incident_id, rung));
CREATE INDEX IF NOT EXISTS actions_target ON actions(target, started_at);
CREATE TABLE IF NOT EXISTS outcomes (
  incident_id TEXT PRIMARY KEY, outcome TEXT NOT NULL, at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS audit (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL, incident_id TEXT NOT NULL,
  workload TEXT NOT NULL, kind TEXT NOT NULL, data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS audit_incident ON audit(incident_id);
CREATE INDEX IF NOT EXISTS audit_workload ON audit(workload);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TABLE IF NOT EXISTS control (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS silences (workload TEXT PRIMARY KEY, until REAL NOT NULL, user TEXT);
CREATE TABLE IF NOT EXISTS approvals (
  id TEXT PRIMARY KEY, incident_id TEXT NOT NULL, rung INTEGER NOT NULL, action TEXT NOT NULL,
  status TEXT NOT NULL, requested_at REAL NOT NULL, expires_at REAL NOT NULL,
  decided_by TEXT NOT NULL DEFAULT '', UNIQUE (incident_id, rung));
CREATE TABLE IF NOT EXISTS outbox (
  event_id TEXT PRIMARY KEY, incident_id TEXT NOT NULL, sequence INTEGER NOT NULL,
  payload TEXT NOT NULL, status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
  next_at REAL NOT NULL, lease_until REAL NOT NULL DEFAULT 0, created_at REAL NOT NULL,
  delivered_at REAL, last_error TEXT NOT NULL DEFAULT '', UNIQUE (incident_id, sequence));
CREATE INDEX IF NOT EXISTS outbox_due ON outbox(status, next_at);
"""
HOUR = 3600.0


class SqliteStore(SqliteOutbox):
    """One connection per thread; `path=":memory:"` is not shared, so tests use a file."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._local = threading.local()
        self._db().executescript(SCHEMA)  # idempotent; executescript manages its transaction

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA busy_timeout=30000")
            self._local.db = db
        return cast(sqlite3.Connection, db)

    @contextlib.contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def close(self) -> None:
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None

    # incidents and leases -------------------------------------------------------------
    def record_notice(
        self,
        incident: Incident,
        now: float,
        audit: Json | None = None,
        notify: Callable[[NoticeResult], Json | None] | None = None,
    ) -> NoticeResult:
        """Record a notice; in the same transaction, audit it and queue what it announces."""
        with self._tx() as db:
            result = self._notice(db, incident, now)
            if audit is not None:
                self._append(
                    db, incident.id, incident.workload, "notice", {**audit, "result": result}, now
                )
            payload = notify(result) if notify is not None else None
            if payload is not None:
                self._enqueue(db, incident.id, payload, now)
            return result

    def _notice(self, db: sqlite3.Connection, incident: Incident, now: float) -> NoticeResult:
        row = db.execute(
            "SELECT status, state FROM incidents WHERE id=?", (incident.id,)
        ).fetchone()
        if row is None:
            status = "new" if incident.state == "open" else "closed"
            db.execute(
                "INSERT INTO incidents (id, status, state, workload, issue, data, opened_at,"
                " updated_at, closed_at) VALUES (?,?,?,?,?,?,?,?,?)",
                (
                    incident.id,
                    status,
                    incident.state,
                    incident.workload,
                    incident.issue,
                    json.dumps(to_record(incident)),
                    now,
                    now,
                    now if incident.state == "closed" else None,
                ),
            )
            return "new" if incident.state == "open" else "closed"
        db.execute("UPDATE incidents SET notices = notices + 1 WHERE id=?", (incident.id,))
        if row["state"] == "closed":
            return "stale" if incident.state == "open" else "duplicate"
        if incident.state == "open":
            return "duplicate"
        # A running remediation finishes (verification sees the close); others just end.
        keep = ("acting", "verifying", "resolved", "escalated", "notified", "skipped")
        new_status = row["status"] if row["status"] in keep else "closed"
        db.execute(
            "UPDATE incidents SET state='closed', status=?, closed_at=?, updated_at=? WHERE id=?",
            (new_status, now, now, incident.id),
        )
        db.execute(
            "UPDATE approvals SET status='cancelled' WHERE incident_id=? AND status='pending'",
            (incident.id,),
        )
        return "closed"

    def acquire(self, incident_id: str, owner: str, now: float, ttl: float) -> bool:
        with self._tx() as db:
            marks = ",".join("?" * len(ACTIVE))
            cursor = db.execute(
                f"UPDATE incidents SET lease_owner=?, lease_until=? WHERE id=? AND status IN ({marks})"
                " AND next_at <= ? AND (lease_until < ? OR lease_owner = ?)",
                (owner, now + ttl, incident_id, *ACTIVE, now, now, owner),
            )
            return cursor.rowcount == 1

    def renew(self, incident_id: str, owner: str, now: float, ttl: float) -> bool:
        with self._tx() as db:
            cursor = db.execute(
                "UPDATE incidents SET lease_until=? WHERE id=? AND lease_owner=?",
                (now + ttl, incident_id, owner),
            )
            return cursor.rowcount == 1

    def release(
        self, incident_id: str, owner: str, status: str, now: float, next_at: float = 0.0
    ) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE incidents SET status=?, next_at=?, lease_owner=NULL, lease_until=0,"
                " updated_at=? WHERE id=? AND lease_owner=?",
                (status, next_at, now, incident_id, owner),
            )

    def set_status(self, incident_id: str, status: str, rung: int | None = None) -> None:
        with self._tx() as db:
            if rung is None:
                db.execute("UPDATE incidents SET status=? WHERE id=?", (status, incident_id))
            else:
                db.execute(
                    "UPDATE incidents SET status=?, rung=? WHERE id=?", (status, rung, incident_id)
                )

    def pending(self, now: float, limit: int = 50) -> list[str]:
        marks = ",".join("?" * len(ACTIVE))
        rows = self._db().execute(
            f"SELECT id FROM incidents WHERE status IN ({marks}) AND next_at <= ?"
            " AND lease_until < ? ORDER BY opened_at LIMIT ?",
            (*ACTIVE, now, now, limit),
        )
        return [r["id"] for r in rows]

    def _incident_row(self, row: sqlite3.Row) -> Json:
        data = json.loads(row["data"])
        data.update(
            status=row["status"],
            state=row["state"],
            rung=row["rung"],
            notices=row["notices"],
            opened_at=row["opened_at"],
            closed_at=row["closed_at"],
            updated_at=row["updated_at"],
            workload=row["workload"],
        )
        return cast(Json, data)

    def incident(self, incident_id: str) -> Json | None:
        row = self._db().execute("SELECT * FROM incidents WHERE id=?", (incident_id,)).fetchone()
        return None if row is None else self._incident_row(row)

    def incidents(self, state: str = "all", limit: int = 200) -> list[Json]:
        query, args = "SELECT * FROM incidents", []
        if state in ("open", "closed"):
            query += " WHERE state=?"
            args.append(state)
        rows = self._db().execute(query + " ORDER BY opened_at DESC LIMIT ?", (*args, limit))
        return [self._incident_row(r) for r in rows]

    def history(self, incident: Incident, now: float, default_mode: Mode = "observe") -> History:
        db = self._db()
        mode, paused = self.control(default_mode)
        row = db.execute("SELECT rung FROM incidents WHERE id=?", (incident.id,)).fetchone()
        actions = tuple(
            ActionRecord(
                r["incident_id"],
                r["rung"],
                r["action"],
                r["target"],
                r["status"],
                r["started_at"],
                r["pool"],
            )
            for r in db.execute(
                "SELECT * FROM actions WHERE started_at > ? ORDER BY started_at DESC",
                (now - 2 * HOUR,),
            )
        )
        outcomes = tuple(
            r["outcome"]
            for r in db.execute("SELECT outcome FROM outcomes ORDER BY at DESC LIMIT 20")
        )
        approval_row = db.execute(
            "SELECT * FROM approvals WHERE incident_id=? ORDER BY rung DESC LIMIT 1", (incident.id,)
        ).fetchone()
        silence = db.execute(
            "SELECT until FROM silences WHERE workload=?", (incident.workload,)
        ).fetchone()
        return History(
            mode=mode,
            paused=paused,
            attempted_rungs=int(row["rung"]) if row else 0,
            actions=actions,
            outcomes=outcomes,
            approval=_approval(approval_row) if approval_row else None,
            silenced_until=float(silence["until"]) if silence else None,
        )

    # actions and budgets ----------------------------------------------------------------
    def reserve_action(
        self,
        incident: Incident,
        rung: int,
        planned: Json,
        pool: str,
        now: float,
        limits: Limits,
    ) -> Json | Refused:
        target = incident.workload
        with self._tx() as db:
            mine = db.execute(
                "SELECT * FROM actions WHERE incident_id=? AND rung=?", (incident.id, rung)
            ).fetchone()
            if mine is not None:
                return dict(mine)
            others = db.execute(
                "SELECT target, started_at FROM actions WHERE started_at > ? AND incident_id != ?",
                (now - HOUR, incident.id),
            ).fetchall()
            on_target = [r["started_at"] for r in others if r["target"] == target]
            # A scale-out disrupts nothing, so it waits behind no cooldown (guardrails stage).
            cools = planned.get("name") != "scale"
            if cools and on_target and now - max(on_target) < limits.cooldown_seconds:
                return Refused(f"cooldown: {target} was acted on {int(now - max(on_target))} s ago")
            if len(on_target) >= limits.target_actions_per_hour:
                return Refused(f"rate limit: {len(on_target)} actions on {target} this hour")
            if len(others) >= limits.global_actions_per_hour:
                return Refused(f"rate limit: {len(others)} actions in the cluster this hour")
            db.execute(
                "INSERT INTO actions (incident_id, rung, action, target, pool, status, started_at,"
                " planned) VALUES (?,?,?,?,?,?,?,?)",
                (
                    incident.id,
                    rung,
                    planned["name"],
                    target,
                    pool,
                    "started",
                    now,
                    json.dumps(planned),
                ),
            )
            db.execute(
                "UPDATE incidents SET status='acting', rung=? WHERE id=?", (rung, incident.id)
            )
            row = db.execute(
                "SELECT * FROM actions WHERE incident_id=? AND rung=?", (incident.id, rung)
            ).fetchone()
            return dict(row)

    def finish_action(self, incident_id: str, rung: int, status: str, now: float) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE actions SET status=?, finished_at=? WHERE incident_id=? AND rung=?",
                (status, now, incident_id, rung),
            )

    def record_outcome(self, incident_id: str, outcome: str, now: float) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO outcomes (incident_id, outcome, at) VALUES (?,?,?)",
                (incident_id, outcome, now),
            )

    def history_outcomes(self, limit: int = 20) -> list[str]:
        rows = self._db().execute("SELECT outcome FROM outcomes ORDER BY at DESC LIMIT ?", (limit,))
        return [r["outcome"] for r in rows]

    def actions(self, incident_id: str | None = None) -> list[Json]:
        query, args = "SELECT * FROM actions", tuple[str, ...]()
        if incident_id is not None:
            query, args = query + " WHERE incident_id=?", (incident_id,)
        rows = self._db().execute(query + " ORDER BY started_at", args)
        return [{**dict(r), "planned": json.loads(r["planned"])} for r in rows]

    # audit -------------------------------------------------------------------------------
    def audit(self, incident_id: str, workload: str, kind: str, data: Json, now: float) -> None:
        with self._tx() as db:
            self._append(db, incident_id, workload, kind, data, now)

    @staticmethod
    def _append(
        db: sqlite3.Connection, incident_id: str, workload: str, kind: str, data: Json, now: float
    ) -> None:
        db.execute(
            "INSERT INTO audit (at, incident_id, workload, kind, data) VALUES (?,?,?,?,?)",
            (now, incident_id, workload, kind, json.dumps(data, default=str)),
        )

    def audit_records(
        self, incident_id: str | None = None, workload: str | None = None, limit: int = 500
    ) -> list[Json]:
        query, args = "SELECT * FROM audit", []
        if incident_id is not None:
            query += " WHERE incident_id=?"
            args.append(incident_id)
        elif workload is not None:
            query += " WHERE workload=?"
            args.append(workload)
        rows = self._db().execute(query + " ORDER BY seq LIMIT ?", (*args, limit))
        return [{**dict(r), "data": json.loads(r["data"])} for r in rows]

    # control, silences, approvals --------------------------------------------------------
    def control(self, default_mode: Mode) -> tuple[Mode, bool]:
        rows = {r["key"]: r["value"] for r in self._db().execute("SELECT * FROM control")}
        mode = rows.get("mode", default_mode)
        return cast(Mode, mode), rows.get("paused") == "1"

    def set_control(self, mode: Mode | None = None, paused: bool | None = None) -> None:
        with self._tx() as db:
            if mode is not None:
                db.execute("INSERT OR REPLACE INTO control VALUES ('mode', ?)", (mode,))
            if paused is not None:
                db.execute(
                    "INSERT OR REPLACE INTO control VALUES ('paused', ?)", (str(int(paused)),)
                )

    def silence(self, workload: str, until: float, user: str) -> None:
        with self._tx() as db:
            db.execute("INSERT OR REPLACE INTO silences VALUES (?,?,?)", (workload, until, user))

    def request_approval(
        self, incident_id: str, rung: int, action: str, now: float, ttl: float
    ) -> tuple[ApprovalRecord, bool]:
        """The approval for (incident, rung), created if missing or expired; True if new."""
        with self._tx() as db:
            row = db.execute(
                "SELECT * FROM approvals WHERE incident_id=? AND rung=?", (incident_id, rung)
            ).fetchone()
            if row is not None and not (row["status"] == "pending" and row["expires_at"] <= now):
                return _approval(row), False
            db.execute("DELETE FROM approvals WHERE incident_id=? AND rung=?", (incident_id, rung))
            db.execute(
                "INSERT INTO approvals (id, incident_id, rung, action, status, requested_at,"
                " expires_at) VALUES (?,?,?,?,?,?,?)",
                (uuid.uuid4().hex, incident_id, rung, action, "pending", now, now + ttl),
            )
            row = db.execute(
                "SELECT * FROM approvals WHERE incident_id=? AND rung=?", (incident_id, rung)
            ).fetchone()
            return _approval(row), True

    def decide_approval(
        self, incident_id: str, approve: bool, user: str, now: float
    ) -> ApprovalRecord | str:
        """The decided approval, or why not: `unknown` or `not_pending`."""
        with self._tx() as db:
            if db.execute("SELECT 1 FROM incidents WHERE id=?", (incident_id,)).fetchone() is None:
                return "unknown"
            row = db.execute(
                "SELECT * FROM approvals WHERE incident_id=? AND status='pending' AND expires_at > ?",
                (incident_id, now),
            ).fetchone()
            if row is None:
                return "not_pending"
            status = "approved" if approve else "denied"
            db.execute(
                "UPDATE approvals SET status=?, decided_by=? WHERE id=?", (status, user, row["id"])
            )
            # Wake the incident so a worker acts on the decision now.
            db.execute("UPDATE incidents SET next_at=0 WHERE id=?", (incident_id,))
            decided = db.execute("SELECT * FROM approvals WHERE id=?", (row["id"],)).fetchone()
            return _approval(decided)

    def pending_approvals(self, now: float) -> list[ApprovalRecord]:
        rows = self._db().execute(
            "SELECT * FROM approvals WHERE status='pending' AND expires_at > ?", (now,)
        )
        return [_approval(r) for r in rows]


def _approval(row: Any) -> ApprovalRecord:
    return ApprovalRecord(
        id=row["id"],
        incident_id=row["incident_id"],
        rung=int(row["rung"]),
        action=row["action"],
        status=row["status"],
        requested_at=float(row["requested_at"]),
        expires_at=float(row["expires_at"]),
        decided_by=row["decided_by"],
    )
