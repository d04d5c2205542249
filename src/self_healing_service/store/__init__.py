"""Where the service remembers: an append-only audit log, and transactional claims, leases,
budgets, approvals and the outbox. SQLite locally (WAL); Firestore in the cloud."""

from self_healing_service.store.base import NoticeResult, Refused, Store
from self_healing_service.store.sqlite import SqliteStore

__all__ = ["NoticeResult", "Refused", "SqliteStore", "Store"]
