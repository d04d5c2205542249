"""The stores — SQLite (real files, WAL) and Firestore (the real emulator, where the gcloud SDK
has it) — run the same table of behaviours; and the outbox delivers to a real HTTP receiver."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from heal_harness import ChatOps, free_port, wait_for

from self_healing_service.gcp.firestore import connect
from self_healing_service.guardrails import Limits
from self_healing_service.incidents import Incident
from self_healing_service.outbox import Outbox
from self_healing_service.store.base import Refused, Store
from self_healing_service.store.sqlite import SqliteStore

T0 = 1_767_225_600.0


def incident(incident_id: str = "0.a", state: str = "open", name: str = "cart") -> Incident:
    return Incident(
        incident_id,
        state,
        "memory_leak",
        "critical",
        "shop",
        "Deployment",
        name,
        "test",
        T0,  # type: ignore[arg-type]
    )


def missing_tool(name: str, reason: str) -> None:
    """As tests/conftest.py: skip, or fail where GKE_HEAL_REQUIRE_TOOLS=1 (CI)."""
    if os.environ.get("GKE_HEAL_REQUIRE_TOOLS") == "1":
        pytest.fail(f"GKE_HEAL_REQUIRE_TOOLS=1 and {name} is not available: {reason}")
    pytest.skip(f"{name} is not available: {reason}")


@pytest.fixture(scope="module")
def firestore_emulator() -> Iterator[str]:
    found = shutil.which("gcloud")
    if found is None:
        missing_tool("gcloud", "not found on PATH")
    gcloud = Path(str(found)).resolve()
    binary = (
        gcloud.parents[1] / "platform" / "cloud-firestore-emulator" / "cloud_firestore_emulator"
    )
    if not binary.exists():
        missing_tool("cloud-firestore-emulator", f"{binary} does not exist")
    port = free_port()
    process = subprocess.Popen(
        [str(binary), "start", "--host=127.0.0.1", f"--port={port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip

    def listening() -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/", timeout=1).status_code < 500
        except httpx.HTTPError:
            return False

    wait_for(listening, 60, "the Firestore emulator")
    yield f"127.0.0.1:{port}"
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=20)


@pytest.fixture(params=["sqlite", "firestore"])
def store_at(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], Store]:
    """A factory of handles on one shared store (each call: a new connection/client)."""
    if request.param == "sqlite":
        return lambda: SqliteStore(tmp_path / "s.db")
    host = request.getfixturevalue("firestore_emulator")
    prefix = f"t{uuid.uuid4().hex[:8]}"

    def make() -> Store:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("FIRESTORE_EMULATOR_HOST", host)
            return connect("demo-heal", "(default)", prefix)

    return make


class StepClock:
    def __init__(self, now: float = T0) -> None:
        self.t = now

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += seconds


def test_notices_are_idempotent_and_a_close_ends_the_incident(
    store_at: Callable[[], Store],
) -> None:
    store = store_at()
    CASES = [  # (notice, expected result, status after)
        (incident(), "new", "new"),
        (incident(), "duplicate", "new"),
        (incident(state="closed"), "closed", "closed"),
        (incident(state="closed"), "duplicate", "closed"),
        (incident(), "stale", "closed"),
    ]  # fmt: skip
    for notice, result, status in CASES:
        assert store.record_notice(notice, T0) == result
        assert store.incident("0.a")["status"] == status  # type: ignore[index]
    assert store.record_notice(incident("0.b", "closed"), T0) == "closed"  # close before open
    assert store.record_notice(incident("0.b"), T0) == "stale"
    assert store.pending(T0 + 1) == []


def test_audit_is_append_only_and_survives_reopening(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.db")
    store.audit("0.a", "shop/cart", "decision", {"outcome": "skip", "reasons": ["paused"]}, T0)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        store._db().execute("UPDATE audit SET kind='x'")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        store._db().execute("DELETE FROM audit")
    again = SqliteStore(tmp_path / "s.db")
    assert again.audit_records(workload="shop/cart")[0]["data"]["reasons"] == ["paused"]
    mode = again._db().execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_one_lease_holder_among_many_threads(store_at: Callable[[], Store]) -> None:
    store_at().record_notice(incident(), T0)
    winners: list[str] = []
    errors: list[BaseException] = []
    handles = [store_at() for _ in range(8)]

    def contend(owner: str, handle: Store) -> None:
        try:
            if handle.acquire("0.a", owner, T0, 60):
                winners.append(owner)
        except BaseException as exc:  # a lost race is "not acquired", never an error
            errors.append(exc)

    threads = [threading.Thread(target=contend, args=(f"w{i}", h)) for i, h in enumerate(handles)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(winners) == 1
    store = store_at()
    assert not store.acquire("0.a", "late", T0 + 59, 60)
    assert store.acquire("0.a", "late", T0 + 61, 60)  # an expired lease (crashed owner) moves on


@pytest.mark.parametrize("aborted_directly", [True, False])
def test_a_lease_lost_to_contention_is_not_acquired(
    monkeypatch: pytest.MonkeyPatch, aborted_directly: bool
) -> None:
    """Under heavy contention the Firestore client retries an aborted transaction and gives up
    with a ValueError caused by `Aborted` (seen in CI, eight replicas racing on the emulator).
    Nothing was written: the lease is simply not ours. Other errors still surface."""
    from google.api_core.exceptions import Aborted

    from self_healing_service.gcp.firestore import FirestoreStore

    class Client:
        def collection(self, name: str) -> Client:
            return self

        def document(self, name: str) -> Client:
            return self

    def gave_up(body: object) -> bool:
        if aborted_directly:
            raise Aborted("Transaction lock timeout.")
        raise ValueError("Failed to commit transaction in 5 attempts.") from Aborted("409")

    store = FirestoreStore(Client())  # type: ignore[arg-type]
    monkeypatch.setattr(store, "_tx", gave_up)
    assert store.acquire("0.a", "w1", T0, 60) is False

    def broken(body: object) -> bool:
        raise ValueError("something else")

    monkeypatch.setattr(store, "_tx", broken)
    with pytest.raises(ValueError, match="something else"):
        store.acquire("0.a", "w1", T0, 60)


def test_budgets_are_reserved_transactionally(store_at: Callable[[], Store]) -> None:
    store = store_at()
    limits = Limits(cooldown_seconds=300, target_actions_per_hour=5, global_actions_per_hour=2)
    plan = {"name": "rollout_restart"}
    first = store.reserve_action(incident("0.a"), 0, plan, "", T0, limits)
    assert not isinstance(first, Refused)
    assert store.reserve_action(incident("0.a"), 0, plan, "", T0 + 1, limits) == first  # resume
    cooled = store.reserve_action(incident("0.b"), 0, plan, "", T0 + 10, limits)
    assert isinstance(cooled, Refused) and "cooldown" in cooled.reason
    assert not isinstance(
        store.reserve_action(incident("0.c", name="ad"), 0, plan, "", T0, limits), Refused
    )
    capped = store.reserve_action(incident("0.d", name="email"), 0, plan, "", T0, limits)
    assert isinstance(capped, Refused) and "2 actions in the cluster" in capped.reason


def test_a_scale_out_waits_behind_no_cooldown(store_at: Callable[[], Store]) -> None:
    store = store_at()
    limits = Limits(cooldown_seconds=300, target_actions_per_hour=5, global_actions_per_hour=5)
    restart = {"name": "rollout_restart"}
    assert not isinstance(
        store.reserve_action(incident("0.a"), 0, restart, "", T0, limits), Refused
    )
    cooled = store.reserve_action(incident("0.b"), 0, restart, "", T0 + 10, limits)
    assert isinstance(cooled, Refused) and "cooldown" in cooled.reason
    added = store.reserve_action(incident("0.s"), 0, {"name": "scale"}, "", T0 + 10, limits)
    assert not isinstance(added, Refused)  # adding pods disrupts none


def test_approvals_expire_and_decide_once(store_at: Callable[[], Store]) -> None:
    store = store_at()
    store.record_notice(incident(), T0)
    approval, new = store.request_approval("0.a", 0, "drain", T0, 60)
    assert new and approval.status == "pending"
    assert store.request_approval("0.a", 0, "drain", T0 + 1, 60) == (approval, False)
    assert store.decide_approval("0.a", True, "slack:U1", T0 + 61) == "not_pending"  # expired
    renewed, new = store.request_approval("0.a", 0, "drain", T0 + 61, 60)
    assert new and renewed.id != approval.id
    decided = store.decide_approval("0.a", False, "slack:U1", T0 + 62)
    assert not isinstance(decided, str) and decided.status == "denied"
    assert store.decide_approval("0.a", True, "slack:U2", T0 + 63) == "not_pending"
    assert store.decide_approval("0.zzz", True, "slack:U2", T0) == "unknown"


def test_chatops_down_for_a_minute_loses_and_duplicates_nothing(
    store_at: Callable[[], Store], chatops: ChatOps
) -> None:
    store, clock = store_at(), StepClock()
    outbox = Outbox(store, clock, chatops.url, "t", backoff=1.0, max_backoff=8.0)
    sent = []
    for n in range(30):
        incident_id = f"0.{n % 5}"
        sent.append(
            store.enqueue(incident_id, {"incident_id": incident_id, "kind": "closed"}, clock.now())[
                "event_id"
            ]
        )
    chatops.refusing = True
    while clock.now() < T0 + 60:  # a minute of refusals, polled every second
        assert outbox.deliver_due() == 0
        clock.sleep(1.0)
    assert chatops.refused > 0 and chatops.received == []
    assert store.outbox_counts() == {"pending": 30}
    chatops.refusing = False
    for _ in range(20):
        outbox.deliver_due()
        clock.sleep(8.0)
    ids = [e["event_id"] for e in chatops.received]
    assert sorted(ids) == sorted(sent) and len(set(ids)) == 30
    for n in range(5):
        sequences = [e["sequence"] for e in chatops.received if e["incident_id"] == f"0.{n}"]
        assert sequences == sorted(sequences) == list(range(1, 7))
    assert store.outbox_counts() == {"delivered": 30}
    outbox.close()


def test_two_outboxes_share_the_work_without_duplicates(tmp_path: Path, chatops: ChatOps) -> None:
    path = tmp_path / "s.db"
    store = SqliteStore(path)
    for n in range(40):
        store.enqueue(f"0.{n}", {"incident_id": f"0.{n}", "kind": "closed"}, T0)
    clock = StepClock(T0 + 1)
    boxes = [Outbox(SqliteStore(path), clock, chatops.url) for _ in range(2)]
    threads = [threading.Thread(target=b.deliver_due) for b in boxes]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wait_for(lambda: len(chatops.received) == 40, 10, "all deliveries")
    assert len({e["event_id"] for e in chatops.received}) == 40
    for b in boxes:
        b.close()
