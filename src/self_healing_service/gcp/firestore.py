"""The store on Firestore (Native mode), for several Cloud Run replicas: the same interface as
`SqliteStore`; every claim, lease and budget is a Firestore transaction. Queries use single
fields only (no composite indexes to deploy); the rest is filtered here."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any, cast

from google.api_core.exceptions import Aborted
from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

from self_healing_service.guardrails import Limits
from self_healing_service.history import ActionRecord, ApprovalRecord, History, Mode
from self_healing_service.incidents import Incident, to_record
from self_healing_service.store.base import ACTIVE, Delivery, Json, NoticeResult, Refused

HOUR = 3600.0
KEEP_ON_CLOSE = ("acting", "verifying", "resolved", "escalated", "notified", "skipped")


def _key(*parts: object) -> str:
    return "__".join(str(p).replace("/", "~") for p in parts)


def connect(project: str, database: str, prefix: str = "heal") -> FirestoreStore:
    """A store on the named database (honours FIRESTORE_EMULATOR_HOST)."""
    return FirestoreStore(firestore.Client(project=project, database=database), prefix)


class FirestoreStore:
    def __init__(self, client: firestore.Client, prefix: str = "heal") -> None:
        self.client = client
        self.prefix = prefix

    def _col(self, name: str) -> Any:
        return self.client.collection(f"{self.prefix}_{name}")

    def _tx(self, body: Callable[[Any], Any]) -> Any:
        return firestore.transactional(body)(self.client.transaction())

    def close(self) -> None:
        self.client.close()  # type: ignore[no-untyped-call]

    # incidents and leases -----------------------------------------------------------------
    def record_notice(
        self,
        incident: Incident,
        now: float,
        audit: Json | None = None,
        notify: Callable[[NoticeResult], Json | None] | None = None,
    ) -> NoticeResult:
        ref = self._col("incidents").document(incident.id)

        def body(tx: Any) -> NoticeResult:
            snap = ref.get(transaction=tx)
            result: NoticeResult
            if not snap.exists:
                result = "new" if incident.state == "open" else "closed"
                tx.set(ref, {
                    "id": incident.id, "status": "new" if result == "new" else "closed",
                    "state": incident.state, "workload": incident.workload,
                    "issue": incident.issue, "data": to_record(incident), "rung": 0,
                    "notices": 1, "next_at": 0.0, "lease_owner": None, "lease_until": 0.0,
                    "opened_at": now, "updated_at": now, "sequence": 0,
                    "closed_at": now if incident.state == "closed" else None,
                })  # fmt: skip
                current = {"sequence": 0}
            else:
                current = snap.to_dict()
                tx.update(ref, {"notices": firestore.Increment(1)})
                if current["state"] == "closed":
                    result = "stale" if incident.state == "open" else "duplicate"
                elif incident.state == "open":
                    result = "duplicate"
                else:
                    result = "closed"
                    status = current["status"] if current["status"] in KEEP_ON_CLOSE else "closed"
                    tx.update(ref, {"state": "closed", "status": status, "closed_at": now,
                                    "updated_at": now})  # fmt: skip
            if audit is not None:
                self._append(tx, incident.id, incident.workload, "notice",
                             {**audit, "result": result}, now)  # fmt: skip
            payload = notify(result) if notify is not None else None
            if payload is not None:
                self._enqueue_in(tx, incident.id, payload, now, int(current.get("sequence", 0)))
            return result

        return cast(NoticeResult, self._tx(body))

    def acquire(self, incident_id: str, owner: str, now: float, ttl: float) -> bool:
        ref = self._col("incidents").document(incident_id)

        def body(tx: Any) -> bool:
            snap = ref.get(transaction=tx)
            if not snap.exists:
                return False
            d = snap.to_dict()
            free = d["lease_until"] < now or d.get("lease_owner") == owner
            if d["status"] not in ACTIVE or d["next_at"] > now or not free:
                return False
            tx.update(ref, {"lease_owner": owner, "lease_until": now + ttl})
            return True

        try:
            return bool(self._tx(body))
        except (Aborted, ValueError) as exc:
            # Replicas racing for the same lease: the client retried the aborted transaction
            # and gave up (a ValueError caused by Aborted). Nothing was written, and another
            # replica holds the lease or the next sweep tries again: not acquired.
            if isinstance(exc, Aborted) or isinstance(exc.__cause__, Aborted):
                return False
            raise

    def renew(self, incident_id: str, owner: str, now: float, ttl: float) -> bool:
        ref = self._col("incidents").document(incident_id)

        def body(tx: Any) -> bool:
            snap = ref.get(transaction=tx)
            if not snap.exists or snap.get("lease_owner") != owner:
                return False
            tx.update(ref, {"lease_until": now + ttl})
            return True

        return bool(self._tx(body))

    def release(
        self, incident_id: str, owner: str, status: str, now: float, next_at: float = 0.0
    ) -> None:
        ref = self._col("incidents").document(incident_id)

        def body(tx: Any) -> None:
            snap = ref.get(transaction=tx)
            if snap.exists and snap.get("lease_owner") == owner:
                tx.update(ref, {"status": status, "next_at": next_at, "lease_owner": None,
                                "lease_until": 0.0, "updated_at": now})  # fmt: skip

        self._tx(body)

    def set_status(self, incident_id: str, status: str, rung: int | None = None) -> None:
        change: Json = {"status": status} if rung is None else {"status": status, "rung": rung}
        self._col("incidents").document(incident_id).update(change)

    def pending(self, now: float, limit: int = 50) -> list[str]:
        found = (
            self._col("incidents").where(filter=FieldFilter("status", "in", list(ACTIVE))).stream()
        )
        rows = [s.to_dict() for s in found]
        due = [r for r in rows if r["next_at"] <= now and r["lease_until"] < now]
        return [r["id"] for r in sorted(due, key=lambda r: r["opened_at"])][:limit]

    @staticmethod
    def _summary(d: Json) -> Json:
        return {**d["data"], **{k: d.get(k) for k in (
            "status", "state", "rung", "notices", "opened_at", "closed_at", "updated_at", "workload",
        )}}  # fmt: skip

    def incident(self, incident_id: str) -> Json | None:
        snap = self._col("incidents").document(incident_id).get()
        return self._summary(snap.to_dict()) if snap.exists else None

    def incidents(self, state: str = "all", limit: int = 200) -> list[Json]:
        query = self._col("incidents")
        if state in ("open", "closed"):
            query = query.where(filter=FieldFilter("state", "==", state))
        rows = [self._summary(s.to_dict()) for s in query.stream()]
        return sorted(rows, key=lambda r: -r["opened_at"])[:limit]

    def history(self, incident: Incident, now: float, default_mode: Mode = "observe") -> History:
        mode, paused = self.control(default_mode)
        snap = self._col("incidents").document(incident.id).get()
        recent = (
            self._col("actions")
            .where(filter=FieldFilter("started_at", ">", now - 2 * HOUR))
            .stream()
        )
        actions = sorted((s.to_dict() for s in recent), key=lambda a: -a["started_at"])
        approvals = [
            s.to_dict()
            for s in self._col("approvals")
            .where(filter=FieldFilter("incident_id", "==", incident.id))
            .stream()
        ]
        silence = self._col("silences").document(_key(incident.workload)).get()
        return History(
            mode=mode,
            paused=paused,
            attempted_rungs=int(snap.get("rung")) if snap.exists else 0,
            actions=tuple(
                ActionRecord(
                    a["incident_id"],
                    a["rung"],
                    a["action"],
                    a["target"],
                    a["status"],
                    a["started_at"],
                    a.get("pool", ""),
                )
                for a in actions
            ),
            outcomes=tuple(self.history_outcomes()),
            approval=_approval(max(approvals, key=lambda a: a["rung"])) if approvals else None,
            silenced_until=float(silence.get("until")) if silence.exists else None,
        )

    # actions and budgets -----------------------------------------------------------------
    def reserve_action(
        self, incident: Incident, rung: int, planned: Json, pool: str, now: float, limits: Limits
    ) -> Json | Refused:
        target = incident.workload
        ref = self._col("actions").document(_key(incident.id, rung))
        recent_query = self._col("actions").where(filter=FieldFilter("started_at", ">", now - HOUR))
        incident_ref = self._col("incidents").document(incident.id)

        def body(tx: Any) -> Json | Refused:
            mine = ref.get(transaction=tx)
            if mine.exists:
                return cast(Json, mine.to_dict())
            known = incident_ref.get(transaction=tx).exists  # reads before any write
            others = [s.to_dict() for s in tx.get(recent_query)]
            others = [o for o in others if o["incident_id"] != incident.id]
            on_target = [o["started_at"] for o in others if o["target"] == target]
            # A scale-out disrupts nothing, so it waits behind no cooldown (guardrails stage).
            cools = planned.get("name") != "scale"
            if cools and on_target and now - max(on_target) < limits.cooldown_seconds:
                return Refused(f"cooldown: {target} was acted on {int(now - max(on_target))} s ago")
            if len(on_target) >= limits.target_actions_per_hour:
                return Refused(f"rate limit: {len(on_target)} actions on {target} this hour")
            if len(others) >= limits.global_actions_per_hour:
                return Refused(f"rate limit: {len(others)} actions in the cluster this hour")
            row = {"incident_id": incident.id, "rung": rung, "action": planned["name"],
                   "target": target, "pool": pool, "status": "started", "started_at": now,
                   "finished_at": None, "planned": planned}  # fmt: skip
            tx.set(ref, row)
            if known:
                tx.update(incident_ref, {"status": "acting", "rung": rung})
            return row

        return cast("Json | Refused", self._tx(body))

    def finish_action(self, incident_id: str, rung: int, status: str, now: float) -> None:
        self._col("actions").document(_key(incident_id, rung)).update(
            {"status": status, "finished_at": now}
        )

    def record_outcome(self, incident_id: str, outcome: str, now: float) -> None:
        self._col("outcomes").document(incident_id).set({"outcome": outcome, "at": now})

    def history_outcomes(self, limit: int = 20) -> list[str]:
        query = self._col("outcomes").order_by("at", direction=firestore.Query.DESCENDING)
        return [s.get("outcome") for s in query.limit(limit).stream()]

    def actions(self, incident_id: str | None = None) -> list[Json]:
        query = self._col("actions")
        if incident_id is not None:
            query = query.where(filter=FieldFilter("incident_id", "==", incident_id))
        return sorted((s.to_dict() for s in query.stream()), key=lambda a: a["started_at"])

    # audit (append-only: documents are only ever created) --------------------------------
    def _append(
        self, tx: Any, incident_id: str, workload: str, kind: str, data: Json, now: float
    ) -> None:
        record = {"at": now, "ns": time.time_ns(), "incident_id": incident_id,
                  "workload": workload, "kind": kind, "data": data}  # fmt: skip
        tx.create(self._col("audit").document(), record)

    def audit(self, incident_id: str, workload: str, kind: str, data: Json, now: float) -> None:
        record = {"at": now, "ns": time.time_ns(), "incident_id": incident_id,
                  "workload": workload, "kind": kind, "data": data}  # fmt: skip
        self._col("audit").document().create(record)

    def audit_records(
        self, incident_id: str | None = None, workload: str | None = None, limit: int = 500
    ) -> list[Json]:
        query = self._col("audit")
        if incident_id is not None:
            query = query.where(filter=FieldFilter("incident_id", "==", incident_id))
        elif workload is not None:
            query = query.where(filter=FieldFilter("workload", "==", workload))
        rows = sorted((s.to_dict() for s in query.stream()), key=lambda r: (r["at"], r["ns"]))
        return [{**r, "seq": n} for n, r in enumerate(rows[:limit], 1)]

    # control, silences, approvals --------------------------------------------------------
    def control(self, default_mode: Mode) -> tuple[Mode, bool]:
        snap = self._col("control").document("state").get()
        d = snap.to_dict() if snap.exists else {}
        return cast(Mode, d.get("mode", default_mode)), bool(d.get("paused", False))

    def set_control(self, mode: Mode | None = None, paused: bool | None = None) -> None:
        change: Json = {}
        if mode is not None:
            change["mode"] = mode
        if paused is not None:
            change["paused"] = paused
        self._col("control").document("state").set(change, merge=True)

    def silence(self, workload: str, until: float, user: str) -> None:
        self._col("silences").document(_key(workload)).set({"until": until, "user": user})

    def request_approval(
        self, incident_id: str, rung: int, action: str, now: float, ttl: float
    ) -> tuple[ApprovalRecord, bool]:
        ref = self._col("approvals").document(_key(incident_id, rung))

        def body(tx: Any) -> tuple[ApprovalRecord, bool]:
            snap = ref.get(transaction=tx)
            if snap.exists:
                d = snap.to_dict()
                if not (d["status"] == "pending" and d["expires_at"] <= now):
                    return _approval(d), False
            d = {"id": uuid.uuid4().hex, "incident_id": incident_id, "rung": rung,
                 "action": action, "status": "pending", "requested_at": now,
                 "expires_at": now + ttl, "decided_by": ""}  # fmt: skip
            tx.set(ref, d)
            return _approval(d), True

        return cast("tuple[ApprovalRecord, bool]", self._tx(body))

    def decide_approval(
        self, incident_id: str, approve: bool, user: str, now: float
    ) -> ApprovalRecord | str:
        incident_ref = self._col("incidents").document(incident_id)
        query = self._col("approvals").where(filter=FieldFilter("incident_id", "==", incident_id))

        def body(tx: Any) -> ApprovalRecord | str:
            if not incident_ref.get(transaction=tx).exists:
                return "unknown"
            pending = [s for s in tx.get(query)
                       if s.get("status") == "pending" and s.get("expires_at") > now]  # fmt: skip
            if not pending:
                return "not_pending"
            status = "approved" if approve else "denied"
            tx.update(pending[0].reference, {"status": status, "decided_by": user})
            tx.update(incident_ref, {"next_at": 0.0})
            return _approval({**pending[0].to_dict(), "status": status, "decided_by": user})

        return cast("ApprovalRecord | str", self._tx(body))

    def pending_approvals(self, now: float) -> list[ApprovalRecord]:
        found = self._col("approvals").where(filter=FieldFilter("status", "==", "pending")).stream()
        return [_approval(s.to_dict()) for s in found if s.get("expires_at") > now]

    # outbox ------------------------------------------------------------------------------
    def _enqueue_in(self, tx: Any, incident_id: str, payload: Json, now: float, last: int) -> Json:
        sequence = last + 1
        event = {**payload, "event_id": str(uuid.uuid4()), "sequence": sequence}
        tx.set(self._col("sequences").document(incident_id), {"last": sequence})
        tx.create(self._col("outbox").document(event["event_id"]), {
            "event_id": event["event_id"], "incident_id": incident_id, "sequence": sequence,
            "payload": event, "status": "pending", "attempts": 0, "next_at": now,
            "lease_until": 0.0, "created_at": now, "delivered_at": None, "last_error": "",
        })  # fmt: skip
        return event

    def enqueue(self, incident_id: str, payload: Json, now: float) -> Json:
        counter = self._col("sequences").document(incident_id)

        def body(tx: Any) -> Json:
            snap = counter.get(transaction=tx)
            last = int(snap.get("last")) if snap.exists else 0
            return self._enqueue_in(tx, incident_id, payload, now, last)

        return cast(Json, self._tx(body))

    def due(self, now: float, lease: float, limit: int = 50) -> list[Delivery]:
        pending = [
            s.to_dict()
            for s in self._col("outbox")
            .where(filter=FieldFilter("status", "==", "pending"))
            .stream()
        ]
        heads: dict[str, Json] = {}
        for row in pending:  # only the head of each incident's queue keeps the order
            if (
                row["incident_id"] not in heads
                or row["sequence"] < heads[row["incident_id"]]["sequence"]
            ):
                heads[row["incident_id"]] = row
        ready = sorted(
            (r for r in heads.values() if r["next_at"] <= now and r["lease_until"] < now),
            key=lambda r: (r["created_at"], r["sequence"]),
        )[:limit]
        claimed = []
        for row in ready:
            ref = self._col("outbox").document(row["event_id"])

            def body(tx: Any, ref: Any = ref) -> bool:
                snap = ref.get(transaction=tx)
                if snap.get("status") != "pending" or snap.get("lease_until") >= now:
                    return False
                tx.update(ref, {"lease_until": now + lease})
                return True

            if self._tx(body):
                claimed.append(Delivery(row["event_id"], row["incident_id"], row["sequence"],
                                        row["payload"], row["attempts"]))  # fmt: skip
        return claimed

    def delivered(self, event_id: str, now: float) -> None:
        self._col("outbox").document(event_id).update({
            "status": "delivered", "delivered_at": now, "attempts": firestore.Increment(1),
            "lease_until": 0.0,
        })  # fmt: skip

    def failed(self, event_id: str, next_at: float, error: str) -> None:
        self._col("outbox").document(event_id).update({
            "attempts": firestore.Increment(1), "next_at": next_at, "lease_until": 0.0,
            "last_error": error[:500],
        })  # fmt: skip

    def outbox_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for snap in self._col("outbox").stream():
            counts[snap.get("status")] = counts.get(snap.get("status"), 0) + 1
        return counts


def _approval(d: Json) -> ApprovalRecord:
    return ApprovalRecord(
        id=d["id"], incident_id=d["incident_id"], rung=int(d["rung"]), action=d["action"],
        status=d["status"], requested_at=float(d["requested_at"]),
        expires_at=float(d["expires_at"]), decided_by=d.get("decided_by", ""),
    )  # fmt: skip
