"""Scenario files load with clear errors; reports render every fact they are given."""

from __future__ import annotations

from pathlib import Path

import pytest

from gke_heal.report import ChatLine, FaultOutcome, ScenarioReport, terminal_table, write_report
from gke_heal.scenario import FaultStep, Scenario, load_scenario, parse_scenario
from gke_heal.yamlfile import YamlModelError
from local_cloud.clock import rfc3339

REPO = Path(__file__).resolve().parents[2]


def test_demo_scenario_loads() -> None:
    scenario = load_scenario(REPO / "src" / "gke_heal" / "scenarios" / "demo.yaml")
    assert scenario.mode == "enforce"
    assert {f.kind for f in scenario.faults} >= {"memory_leak", "crash_loop", "bad_rollout"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("faults:\n  - kind: memleak\n    target: shop/cart\n", "line 2: faults.0.kind"),
        ("faults:\n  - kind: memory_leak\n    target: cart\n", "line 3: faults.0.target"),
        (
            "faults:\n  - kind: crash_loop\n    target: a/b\n    expect: {isue: x}\n",
            "faults.0.expect.isue: unknown field",
        ),
        ("warmup_minutes: -3\n", "line 1: warmup_minutes"),
        (
            "faults:\n  - kind: crash_loop\n    target: a/b\n    params: {cause: bugg}\n",
            "cause must be one of dependency, bug, rollout, not 'bugg'",
        ),
    ],
)
def test_bad_scenarios_name_field_and_line(text: str, expected: str) -> None:
    with pytest.raises(YamlModelError) as info:
        parse_scenario(text, "s.yaml")
    assert expected in str(info.value)


def _report(tmp: float = 1_767_225_600.0) -> ScenarioReport:
    step = FaultStep(kind="memory_leak", target="shop/cart")
    outcome = FaultOutcome(
        step=step,
        injected_at=tmp,
        detected_at=tmp + 240,
        incident_id="0.abc",
        issue="memory_leak",
        decision="act",
        reasons=["guardrails passed"],
        action="rollout_restart",
        action_at=tmp + 250,
        recovered_at=tmp + 400,
        outcome="healed",
        chat=[ChatLine(at=tmp + 245, channel="slack", text="memory leak in shop/cart")],
        signal_name="memory_limit_utilization",
        signal=[(tmp + 10 * i, 0.3 + 0.01 * i) for i in range(60)],
    )
    return ScenarioReport(Scenario(faults=[step]), tmp, tmp + 3600, 42.0, [outcome])


def test_report_files_hold_the_facts(tmp_path: Path) -> None:
    files = write_report(_report(), tmp_path)
    md = files["markdown"].read_text()
    assert "rollout_restart" in md and "4.0 min" in md and "memory leak in shop/cart" in md
    assert (tmp_path / "fault-1-memory_leak.png").stat().st_size > 1000
    assert "<img" in files["html"].read_text()
    assert '"passed": true' in files["json"].read_text()


def test_failed_expectation_fails_the_report() -> None:
    report = _report()
    report.faults[0].failed_expectations.append("not detected within 5 min")
    assert not report.passed
    assert terminal_table(report).row_count == 1


def test_a_miss_names_the_alert_already_open_on_its_target() -> None:
    """An open incident raises no new alert: the runner records which were open at injection,
    and a missed fault says so (from a real `Monitoring` holding one open latency incident)."""
    from types import SimpleNamespace

    from gke_heal.runner import ScenarioRunner, _Target, _Watch
    from local_cloud.clock import ManualClock
    from local_cloud.monitoring import Monitoring
    from telemetry_pipeline.anomaly import AnomalyMetric, ClusterIdentity

    clock = ManualClock()
    monitoring = Monitoring(clock)
    verdict = {
        "entity_type": "pod", "namespace": "shop", "deployment": "checkout", "pod": "c-1",
        "window_end": rfc3339(clock.now()), "score": 0.95, "issue": "latency_regression",
        "severity": "critical", "model_version": "v1",
    }  # fmt: skip
    assert monitoring.write(AnomalyMetric(ClusterIdentity()).series([verdict])) == []
    clock.advance(60)
    monitoring.tick()
    runner = object.__new__(ScenarioRunner)
    runner.stack = SimpleNamespace(monitoring=monitoring)  # type: ignore[assignment]
    assert runner._open_alerts("shop/checkout") == ["latency-regression"]
    assert runner._open_alerts("shop/cart") == []

    step = FaultStep(kind="dependency_latency", target="shop/checkout")
    outcome = FaultOutcome(step=step, injected_at=clock.now())
    outcome.alerts_open_at_injection = runner._open_alerts("shop/checkout")
    runner._conclude(_Watch(outcome, _Target("shop", "checkout")))
    assert outcome.outcome == "missed"
    assert outcome.reasons == ["alert already open on the target at injection: latency-regression"]


def test_each_run_starts_from_an_empty_data_folder(tmp_path: Path) -> None:
    """A second run's simulated times overlap the first's, so its state must not leak in."""
    from gke_heal.datadir import STATE_MARK, DataDirError, fresh_data_dir

    folder = tmp_path / "demo"
    fresh_data_dir(folder)
    assert [p.name for p in folder.iterdir()] == [STATE_MARK]
    (folder / "heal.sqlite3").write_text("an earlier run's audit trail")
    fresh_data_dir(folder)
    assert not (folder / "heal.sqlite3").exists() and (folder / STATE_MARK).exists()
    legacy = tmp_path / "legacy"  # an earlier version's folder, unmarked
    legacy.mkdir()
    (legacy / "warehouse.duckdb").write_text("x")
    fresh_data_dir(legacy)
    assert not (legacy / "warehouse.duckdb").exists()

    foreign = tmp_path / "home"
    foreign.mkdir()
    (foreign / "thesis.tex").write_text("irreplaceable")
    with pytest.raises(DataDirError, match="--data-dir"):
        fresh_data_dir(foreign)
    assert (foreign / "thesis.tex").read_text() == "irreplaceable"


def test_demo_refuses_a_foreign_data_folder_with_a_message(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from gke_heal.cli import app

    (tmp_path / "notes.txt").write_text("mine")
    result = CliRunner().invoke(app, ["demo", "--data-dir", str(tmp_path)], env={"COLUMNS": "200"})
    assert result.exit_code == 2
    assert "not empty and holds no earlier run's state" in " ".join(result.output.split())
    assert "Traceback" not in result.output
    assert (tmp_path / "notes.txt").exists()
