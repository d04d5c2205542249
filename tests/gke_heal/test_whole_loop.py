"""The whole loop, for real: a short demo scenario on the local stack, checked against the
self-healing service's audit log and the chat sink (their SQLite files, read after the run)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from gke_heal.report import write_report
from gke_heal.runner import ScenarioRunner
from gke_heal.scenario import parse_scenario

SHORT_DEMO = """
name: short demo
seed: 7
mode: enforce
warmup_minutes: 25
settle_minutes: 1
faults:
  - kind: crash_loop
    target: shop/payment
    params: {cause: bug}
    duration_minutes: 12
    clear_after_minutes: 10
    expect: {detected_within_minutes: 6, issue: crash_loop}
"""


@pytest.fixture(scope="module")
def short_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[object, Path]:
    folder = tmp_path_factory.mktemp("demo")
    runner = ScenarioRunner(parse_scenario(SHORT_DEMO), folder / "data", speed=60.0)
    report = runner.run()
    write_report(report, folder / "report")
    return report, folder


def _rows(db: Path, query: str, *args: object) -> list[sqlite3.Row]:
    connection = sqlite3.connect(db)
    connection.row_factory = sqlite3.Row
    try:
        return list(connection.execute(query, args))
    finally:
        connection.close()


def test_fault_detected_named_and_acted_on(short_run: tuple[object, Path]) -> None:
    report, _ = short_run
    fault = report.faults[0]  # type: ignore[attr-defined]
    assert fault.detected_at is not None, "crash loop was not detected"
    assert fault.issue == "crash_loop"
    assert fault.incident_id
    assert fault.action is not None, f"no action; decision {fault.decision}: {fault.reasons}"
    assert not report.harmful_actions  # type: ignore[attr-defined]


def test_report_matches_audit_log(short_run: tuple[object, Path]) -> None:
    report, folder = short_run
    fault = report.faults[0]  # type: ignore[attr-defined]
    db = folder / "data" / "heal.sqlite3"
    actions = _rows(db, "SELECT * FROM actions WHERE incident_id=?", fault.incident_id)
    assert [a["action"] for a in actions][:1] == [fault.action]
    audit = _rows(db, "SELECT kind, data FROM audit WHERE incident_id=?", fault.incident_id)
    kinds = [a["kind"] for a in audit]
    assert "decision" in kinds and "action_done" in kinds
    decision = json.loads(next(a["data"] for a in audit if a["kind"] == "decision"))
    assert decision["outcome"] == fault.decision


def test_report_chat_matches_chat_sink(short_run: tuple[object, Path]) -> None:
    report, folder = short_run
    fault = report.faults[0]  # type: ignore[attr-defined]
    stored = _rows(folder / "data" / "chat-sink.sqlite3", "SELECT platform, body FROM messages")
    about = [r for r in stored if fault.incident_id in r["body"]]
    assert {r["platform"] for r in about} == {"slack", "teams"}
    assert len(fault.chat) >= 2
    markdown = (folder / "report" / "report.md").read_text()
    assert fault.incident_id in markdown and "crash_loop" in markdown
