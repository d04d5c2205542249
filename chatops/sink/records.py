"""What the sink received (SQLite): every accepted request, and the messages as a team would
see them now (posts, updated in place by chat.update, replies in threads, uploaded files)."""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    platform TEXT NOT NULL,
    method TEXT NOT NULL,
    delivery_id TEXT,
    ts TEXT,
    body TEXT NOT NULL,
    problems TEXT NOT NULL,
    received_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS messages (
    ts TEXT PRIMARY KEY,
    platform TEXT NOT NULL,
    channel TEXT NOT NULL,
    thread_ts TEXT,
    body TEXT NOT NULL,
    revisions INTEGER NOT NULL DEFAULT 1,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS files (
    file_id TEXT PRIMARY KEY,
    filename TEXT NOT NULL,
    content BLOB
);
"""


class SinkRecords:
    def __init__(self, path: Path | str) -> None:
        self._lock = threading.RLock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        if str(path) != ":memory:":
            self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(SCHEMA)
        self._counter = 0

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _rows(self, sql: str, args: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(row) for row in self._db.execute(sql, args).fetchall()]

    def next_ts(self, now: float) -> str:
        """A Slack-like, unique, increasing message timestamp."""
        with self._lock:
            self._counter += 1
            return f"{int(now)}.{self._counter:06d}"

    def log(
        self,
        platform: str,
        method: str,
        body: Any,
        problems: list[str],
        now: float,
        delivery_id: str | None = None,
        ts: str | None = None,
    ) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO requests (platform, method, delivery_id, ts, body, problems,"
                " received_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (platform, method, delivery_id, ts, json.dumps(body), json.dumps(problems), now),
            )

    def post(
        self, ts: str, platform: str, channel: str, thread_ts: str | None, body: Any, now: float
    ) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO messages (ts, platform, channel, thread_ts, body, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (ts, platform, channel, thread_ts, json.dumps(body), now),
            )

    def update(self, ts: str, body: Any) -> bool:
        with self._lock:
            cursor = self._db.execute(
                "UPDATE messages SET body = ?, revisions = revisions + 1 WHERE ts = ?",
                (json.dumps(body), ts),
            )
            return cursor.rowcount == 1

    def save_file(self, file_id: str, filename: str, content: bytes | None) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO files (file_id, filename, content) VALUES (?, ?, ?)",
                (file_id, filename, content),
            )

    def file(self, file_id: str) -> dict[str, Any] | None:
        rows = self._rows("SELECT * FROM files WHERE file_id = ?", (file_id,))
        return rows[0] if rows else None

    def requests(self) -> list[dict[str, Any]]:
        rows = self._rows("SELECT * FROM requests ORDER BY id")
        for row in rows:
            row["body"] = json.loads(row["body"])
            row["problems"] = json.loads(row["problems"])
        return rows

    def messages(self) -> list[dict[str, Any]]:
        rows = self._rows("SELECT * FROM messages ORDER BY created_at, ts")
        for row in rows:
            row["body"] = json.loads(row["body"])
        return rows
