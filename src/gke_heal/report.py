"""The scenario report: what happened to each fault, as a terminal table, Markdown, HTML and PNG charts."""

from __future__ import annotations

import html
import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from rich.table import Table

from gke_heal.scenario import FaultStep, Scenario


@dataclass
class ChatLine:
    """One chat message as the team saw it."""

    at: float
    channel: str
    text: str


@dataclass
class FaultOutcome:
    """Everything the report says about one injected fault, each fact from its source."""

    step: FaultStep
    injected_at: float
    detected_at: float | None = None
    incident_id: str | None = None
    issue: str | None = None
    decision: str | None = None
    reasons: list[str] = field(default_factory=list)
    action: str | None = None
    action_at: float | None = None
    recovered_at: float | None = None
    outcome: str = "missed"
    oom_kills_before_action: int = 0
    restarts_during: int = 0
    unhealthy_seconds: float = 0.0
    chat: list[ChatLine] = field(default_factory=list)
    signal_name: str = ""
    signal: list[tuple[float, float]] = field(default_factory=list)
    failed_expectations: list[str] = field(default_factory=list)
    # Alert policies already open on the target when the fault began: an open incident
    # raises no new alert, so a miss with one here was swallowed by it.
    alerts_open_at_injection: list[str] = field(default_factory=list)

    def minutes_after_injection(self, at: float | None) -> str:
        return "-" if at is None else f"{(at - self.injected_at) / 60:.1f} min"


@dataclass
class ScenarioReport:
    """The whole run."""

    scenario: Scenario
    started_at: float
    ended_at: float
    wall_seconds: float
    faults: list[FaultOutcome]
    harmful_actions: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.harmful_actions and all(not f.failed_expectations for f in self.faults)


def _ts(at: float | None) -> str:
    return "-" if at is None else datetime.fromtimestamp(at, tz=UTC).strftime("%H:%M:%S")


def terminal_table(report: ScenarioReport) -> Table:
    """The report as a rich table, one row per fault."""
    table = Table(title=f"{report.scenario.name}: {len(report.faults)} faults", show_lines=True)
    for column in (
        "fault",
        "target",
        "injected",
        "detected",
        "issue",
        "action",
        "recovered",
        "outcome",
    ):
        table.add_column(column, overflow="fold")
    for f in report.faults:
        decision = f.action or f.decision or "-"  # the reasons are in the report files
        style = (
            "green" if f.outcome in ("healed", "escalated") and not f.failed_expectations else "red"
        )
        table.add_row(
            f.step.kind,
            f.step.target,
            _ts(f.injected_at),
            f.minutes_after_injection(f.detected_at),
            f.issue or "-",
            decision,
            f.minutes_after_injection(f.recovered_at),
            f"[{style}]{f.outcome}[/{style}]" + ("".join(f"\n{m}" for m in f.failed_expectations)),
        )
    return table


def draw_chart(outcome: FaultOutcome, path: Path) -> Path | None:
    """A PNG of the fault's signal with markers for injection, detection, action and recovery."""
    if not outcome.signal:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t0 = outcome.injected_at
    xs = [(t - t0) / 60 for t, _ in outcome.signal]
    ys = [v for _, v in outcome.signal]
    fig, ax = plt.subplots(figsize=(7, 2.6), dpi=100)
    ax.plot(xs, ys, color="#1f77b4", linewidth=1.4, label=outcome.signal_name or "signal")
    markers = [
        ("fault injected", outcome.injected_at, "#d62728"),
        ("detected", outcome.detected_at, "#ff7f0e"),
        ("action", outcome.action_at, "#9467bd"),
        ("recovered", outcome.recovered_at, "#2ca02c"),
    ]
    for label, at, colour in markers:
        if at is not None:
            ax.axvline((at - t0) / 60, color=colour, linestyle="--", linewidth=1, label=label)
    ax.set_xlabel("minutes after the fault was injected")
    ax.set_title(f"{outcome.step.kind} on {outcome.step.target}", fontsize=10)
    ax.legend(fontsize=7, loc="upper left")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def write_report(report: ScenarioReport, folder: Path) -> dict[str, Path]:
    """Write `report.md`, `report.html`, `report.json` and one PNG per fault into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    charts: dict[int, Path] = {}
    for i, f in enumerate(report.faults):
        chart = draw_chart(f, folder / f"fault-{i + 1}-{f.step.kind}.png")
        if chart is not None:
            charts[i] = chart
    md = _markdown(report, charts)
    (folder / "report.md").write_text(md, encoding="utf-8")
    (folder / "report.html").write_text(_html(report, charts), encoding="utf-8")
    (folder / "report.json").write_text(
        json.dumps(_as_json(report), indent=2, default=str), encoding="utf-8"
    )
    return {
        "markdown": folder / "report.md",
        "html": folder / "report.html",
        "json": folder / "report.json",
    }


def _as_json(report: ScenarioReport) -> dict[str, object]:
    return {
        "scenario": report.scenario.model_dump(),
        "started_at": report.started_at,
        "ended_at": report.ended_at,
        "wall_seconds": report.wall_seconds,
        "passed": report.passed,
        "harmful_actions": report.harmful_actions,
        "faults": [
            {
                **{k: v for k, v in asdict(f).items() if k not in ("step", "signal")},
                "step": f.step.model_dump(),
                "signal_points": len(f.signal),
            }
            for f in report.faults
        ],
    }


def _markdown(report: ScenarioReport, charts: dict[int, Path]) -> str:
    lines = [
        f"# {report.scenario.name}",
        "",
        f"Simulated {(report.ended_at - report.started_at) / 3600:.1f} h in "
        f"{report.wall_seconds:.0f} s of wall time; mode `{report.scenario.mode}`; "
        f"result: **{'passed' if report.passed else 'failed'}**.",
        "",
        "| # | fault | target | detected | issue | action | recovered | outcome |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for i, f in enumerate(report.faults):
        lines.append(
            f"| {i + 1} | {f.step.kind} | {f.step.target} | "
            f"{f.minutes_after_injection(f.detected_at)} | {f.issue or '-'} | "
            f"{f.action or f.decision or '-'} | {f.minutes_after_injection(f.recovered_at)} | "
            f"{f.outcome} |"
        )
    if report.harmful_actions:
        lines += ["", "## Harmful or needless actions", ""]
        lines += [f"- {a}" for a in report.harmful_actions]
    for i, f in enumerate(report.faults):
        lines += ["", f"## {i + 1}. {f.step.kind} on {f.step.target}", ""]
        lines.append(f"- injected at {_ts(f.injected_at)}, incident `{f.incident_id or '-'}`")
        lines.append(f"- detected after {f.minutes_after_injection(f.detected_at)} as `{f.issue}`")
        lines.append(f"- decision: {f.decision or '-'}; action: {f.action or '-'}")
        for reason in f.reasons:
            lines.append(f"  - {reason}")
        lines.append(f"- recovered after {f.minutes_after_injection(f.recovered_at)}: {f.outcome}")
        lines.append(
            f"- container restarts during the fault: {f.restarts_during}; "
            f"unhealthy for {f.unhealthy_seconds / 60:.1f} min"
            + (
                f"; OOM kills before the action: {f.oom_kills_before_action}"
                if f.step.kind == "memory_leak"
                else ""
            )
        )
        for m in f.failed_expectations:
            lines.append(f"- **expectation failed**: {m}")
        if i in charts:
            lines += ["", f"![{f.step.kind}]({charts[i].name})"]
        if f.chat:
            lines += ["", "Chat messages:", ""]
            lines += [f"- ({c.channel}) {c.text}" for c in f.chat]
    return "\n".join(lines) + "\n"


def _html(report: ScenarioReport, charts: dict[int, Path]) -> str:
    rows = "".join(
        "<tr>"
        + "".join(
            f"<td>{html.escape(str(cell))}</td>"
            for cell in (
                i + 1,
                f.step.kind,
                f.step.target,
                f.minutes_after_injection(f.detected_at),
                f.issue or "-",
                f.action or f.decision or "-",
                f.minutes_after_injection(f.recovered_at),
                f.outcome,
            )
        )
        + "</tr>"
        for i, f in enumerate(report.faults)
    )
    sections = []
    for i, f in enumerate(report.faults):
        chat = "".join(f"<li>({html.escape(c.channel)}) {html.escape(c.text)}</li>" for c in f.chat)
        reasons = "".join(f"<li>{html.escape(r)}</li>" for r in f.reasons)
        img = f'<img src="{charts[i].name}" alt="signal">' if i in charts else ""
        sections.append(
            f"<section><h2>{i + 1}. {html.escape(f.step.kind)} on {html.escape(f.step.target)}</h2>"
            f"<p>Outcome: <b>{html.escape(f.outcome)}</b>; issue {html.escape(f.issue or '-')}; "
            f"action {html.escape(f.action or '-')}</p><ul>{reasons}</ul>{img}"
            f"<h3>Chat</h3><ul>{chat}</ul></section>"
        )
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>gke-heal report</title>"
        "<style>body{font-family:sans-serif;max-width:1000px;margin:auto}"
        "td,th{border:1px solid #ccc;padding:4px}table{border-collapse:collapse}</style></head>"
        f"<body><h1>{html.escape(report.scenario.name)}</h1>"
        f"<p>Result: <b>{'passed' if report.passed else 'failed'}</b></p>"
        "<table><tr><th>#</th><th>fault</th><th>target</th><th>detected</th><th>issue</th>"
        f"<th>action</th><th>recovered</th><th>outcome</th></tr>{rows}</table>"
        + "".join(sections)
        + "</body></html>"
    )
