"""The issue classifier: turns an entity's recent windows into a named issue, severity and target.

Each rule looks for one failure pattern in the current window and the few before it. A
pattern is *clear* when the defining evidence is there and has lasted (one noisy window never
makes an issue clear). Only a clear pattern on a strong anomaly is `critical`, which is what
goes on to alerting: the healing service acts on it, so a false alarm costs a restart.
A partial pattern, or a clear one on a weak anomaly, is a `warning`; nothing is `info`.
Rules are tried in a fixed order, most specific cause first (a node failure explains the
crash loops on it; a fresh rollout explains the errors after it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from anomaly_detection_model.features import FeatureRow
from anomaly_detection_model.issue_rules import (
    BACKOFF_REASONS,
    NODE_DOWN_REASONS,
    ROLLOUT_REASONS,
    UNHEALTHY_REASONS,
    UNSCHEDULABLE_REASONS,
    Baseline,
    IssueRules,
    Pattern,
    last,
    value,
)
from anomaly_detection_model.memory_rules import memory_leak, oom_leak

ISSUE_KINDS: tuple[str, ...] = (
    "memory_leak",
    "cpu_saturation",
    "crash_loop",
    "bad_rollout",
    "error_burst",
    "node_failure",
    "unschedulable",
    "latency_regression",
)
NO_ISSUE = "none"
SEVERITIES = ("critical", "warning", "info")


@dataclass(frozen=True)
class Issue:
    """What the classifier concluded for one entity window."""

    kind: str
    severity: str
    entity: str
    clear: bool
    evidence: dict[str, float] = field(default_factory=dict)
    evident: bool = False  # critical on the events alone, whatever the anomaly score


def classify(
    row: FeatureRow,
    previous: Sequence[FeatureRow],
    baseline: Baseline,
    anomaly: float,
    rules: IssueRules | None = None,
) -> Issue:
    """Name the issue of `row` given the entity's earlier windows (oldest first).

    `baseline(feature)` is the entity's learned normal of a feature (raw units) or None;
    `anomaly` is the model's anomaly score of the row in [0, 1].
    """
    rules = rules or IssueRules()
    recent = [*previous, row]
    for rule in _RULES:
        pattern = rule(row, recent, baseline, rules)
        if pattern is None:
            continue
        strong = anomaly >= rules.critical_score or pattern.evident
        severity = "critical" if pattern.clear and strong else "warning"
        return Issue(
            pattern.kind,
            severity,
            pattern.entity,
            pattern.clear,
            pattern.evidence,
            pattern.evident and severity == "critical",
        )
    return Issue(NO_ISSUE, "info", row.workload, False, {})


def _node_down(r: FeatureRow) -> bool:
    return (value(r, "node_not_ready") or 0.0) >= 0.5 or bool(r.events(*NODE_DOWN_REASONS))


def _node_failure(
    row: FeatureRow, recent: Sequence[FeatureRow], baseline: Baseline, rules: IssueRules
) -> Pattern | None:
    if not _node_down(row):
        return None
    run = 0
    for r in reversed(recent):
        if not _node_down(r):
            break
        run += 1
    node = row.node or row.entity_id
    return Pattern("node_failure", run >= rules.node_windows, node, {"node_not_ready_windows": run})


def _unschedulable(
    row: FeatureRow, recent: Sequence[FeatureRow], baseline: Baseline, rules: IssueRules
) -> Pattern | None:
    if not row.events(*UNSCHEDULABLE_REASONS):
        return None
    windows = sum(1 for r in last(recent, 3) if r.events(*UNSCHEDULABLE_REASONS))
    run = 0
    for r in reversed(recent):
        if not r.events(*UNSCHEDULABLE_REASONS):
            break
        run += 1
    evidence = {
        "failed_scheduling_events": float(row.events(*UNSCHEDULABLE_REASONS)),
        "windows": float(run),
    }
    clear = windows >= rules.unschedulable_windows
    evident = clear and run >= rules.unschedulable_evident_windows
    return Pattern("unschedulable", clear, row.workload, evidence, evident)


def _recent_rollout(row: FeatureRow, recent: Sequence[FeatureRow], rules: IssueRules) -> bool:
    age = value(row, "rollout_age_seconds")
    if age is not None:
        return 0.0 <= age <= rules.rollout_window_s
    windows = max(int(rules.rollout_window_s // 60), 1)
    return any(r.events(*ROLLOUT_REASONS) for r in last(recent, windows))


def _symptoms(r: FeatureRow, baseline: Baseline, rules: IssueRules) -> dict[str, float]:
    """The crash, readiness and error symptoms a rollout or crash loop shows in one window."""
    found: dict[str, float] = {}
    restarts = value(r, "restarts") or 0.0
    if restarts > 0:
        found["restarts"] = restarts
    if r.events(*BACKOFF_REASONS):
        found["backoff_events"] = float(r.events(*BACKOFF_REASONS))
    if r.events(*UNHEALTHY_REASONS):
        found["probe_failures"] = float(r.events(*UNHEALTHY_REASONS))
    ready = value(r, "ready")
    if ready is not None and ready < rules.rollout_ready_min:
        found["ready"] = ready
    if _error_rise(r, baseline, rules):
        found["error_fraction"] = value(r, "error_fraction") or 0.0
    return found


def _rollout_started_run(
    recent: Sequence[FeatureRow], baseline: Baseline, rules: IssueRules
) -> bool:
    """True when the unbroken run of symptomatic windows ending now began during a rollout."""
    for index in range(len(recent) - 1, -1, -1):
        if not _symptoms(recent[index], baseline, rules):
            return False
        if _recent_rollout(recent[index], recent[: index + 1], rules):
            return True
    return False


def _bad_rollout(
    row: FeatureRow, recent: Sequence[FeatureRow], baseline: Baseline, rules: IssueRules
) -> Pattern | None:
    now = _symptoms(row, baseline, rules)
    if not now:
        return None
    if _overload_only(row, now, rules):
        return None
    # A rollout explains symptoms that began while it was fresh, even once it is older.
    if not _recent_rollout(row, recent, rules) and not _rollout_started_run(
        recent, baseline, rules
    ):
        return None
    before = [_symptoms(r, baseline, rules) for r in recent[:-1][-2:]]
    lasting = any(before)
    evidence = dict(now)
    age = value(row, "rollout_age_seconds")
    if age is not None:
        evidence["rollout_age_seconds"] = age
    # A fresh revision whose pods keep failing their probes or crashing, window after window,
    # is a failing rollout on Kubernetes' own word (a new pod's metrics are still normal-ish,
    # and it has no learned normal to deviate from).
    failing = [_failing_pods(r) for r in recent[-rules.rollout_failing_windows :]]
    evident = (
        lasting
        and _recent_rollout(row, recent, rules)
        and len(failing) >= rules.rollout_failing_windows
        and all(failing)
    )
    return Pattern("bad_rollout", lasting, row.workload, evidence, evident)


def _overload_only(row: FeatureRow, symptoms: Mapping[str, float], rules: IssueRules) -> bool:
    """Errors and unready pods with the CPU at its limit and nothing crashing: an overload
    (requests time out in the queue), whatever rolled out before it."""
    cpu = value(row, "cpu_limit_utilization") or 0.0
    return cpu >= rules.cpu_util_high and set(symptoms) <= {"error_fraction", "ready"}


def _failing_pods(r: FeatureRow) -> bool:
    """Kubernetes says pods fail: probe failures, back-off, or restarts in the window."""
    return bool(r.events(*UNHEALTHY_REASONS, *BACKOFF_REASONS)) or (value(r, "restarts") or 0) > 0


def _crash_loop(
    row: FeatureRow, recent: Sequence[FeatureRow], baseline: Baseline, rules: IssueRules
) -> Pattern | None:
    window = last(recent, rules.crash_windows)
    restarts = sum(value(r, "restarts") or 0.0 for r in window)
    backoff = sum(r.events(*BACKOFF_REASONS) for r in last(recent, 3))
    if (value(row, "restarts") or 0.0) <= 0 and not row.events(*BACKOFF_REASONS):
        return None
    evidence = {"restarts_recent": restarts, "backoff_events": float(backoff)}
    clear = restarts >= rules.crash_restarts and backoff > 0
    return Pattern("crash_loop", clear, row.workload, evidence)


def _latency_up(r: FeatureRow, baseline: Baseline, rules: IssueRules) -> bool:
    latency = value(r, "latency_p95_ms")
    normal = baseline("latency_p95_ms")
    if latency is None or normal is None:
        return False
    return latency >= max(normal * rules.latency_ratio, normal + rules.latency_min_increase_ms)


def _cpu_saturation(
    row: FeatureRow, recent: Sequence[FeatureRow], baseline: Baseline, rules: IssueRules
) -> Pattern | None:
    window = last(recent, rules.cpu_windows)
    high = [(value(r, "cpu_limit_utilization") or 0.0) >= rules.cpu_util_high for r in window]
    if not high[-1]:
        return None
    pinned = (value(row, "cpu_limit_utilization") or 0.0) >= rules.cpu_pinned
    sustained = (len(window) >= rules.cpu_windows and all(high)) or pinned
    slow = _latency_up(row, baseline, rules)
    evidence = {"cpu_limit_utilization": value(row, "cpu_limit_utilization") or 0.0}
    if row.get("latency_p95_ms") is not None:
        evidence["latency_p95_ms"] = row.get("latency_p95_ms") or 0.0
    return Pattern("cpu_saturation", sustained and slow, row.workload, evidence)


def _error_rise(r: FeatureRow, baseline: Baseline, rules: IssueRules) -> bool:
    fraction = value(r, "error_fraction")
    if fraction is not None:
        normal = baseline("error_fraction") or 0.0
        limit = max(rules.error_fraction_min, normal * rules.error_fraction_ratio + 0.02)
        if fraction >= limit:
            return True
    # A service that answers requests has a better error measure than its logs. While nothing
    # says what its normal error logging is (a cold start), a steady trickle of error lines
    # from a busy cache whose requests almost all succeed is no burst. Entities without
    # request metrics (workers, a new pod not yet in service) are judged on their logs alone.
    serving = (value(r, "request_rate") or 0.0) > 0 and fraction is not None
    if serving and baseline("error_log_lines") is None:
        return False
    error_logs = value(r, "error_log_lines")
    if error_logs is not None:
        normal_logs = baseline("error_log_lines") or 0.0
        if error_logs >= max(rules.error_log_min, normal_logs * rules.error_log_ratio):
            return True
    return False


def _timeouts_of_slowness(r: FeatureRow, baseline: Baseline, rules: IssueRules) -> bool:
    """Errors that a latency regression explains: latency is up and few requests fail."""
    if not _latency_up(r, baseline, rules):
        return False
    fraction = value(r, "error_fraction")
    return fraction is not None and fraction < rules.latency_error_fraction_max


def _error_burst(
    row: FeatureRow, recent: Sequence[FeatureRow], baseline: Baseline, rules: IssueRules
) -> Pattern | None:
    if not _error_rise(row, baseline, rules) or _timeouts_of_slowness(row, baseline, rules):
        return None
    window = last(recent, rules.error_windows)
    sustained = len(window) >= rules.error_windows and all(
        _error_rise(r, baseline, rules) for r in window
    )
    evidence = {
        name: found
        for name in ("error_fraction", "error_log_lines", "error_rate")
        if (found := row.get(name)) is not None
    }
    return Pattern("error_burst", sustained, row.workload, evidence)


def _latency_regression(
    row: FeatureRow, recent: Sequence[FeatureRow], baseline: Baseline, rules: IssueRules
) -> Pattern | None:
    if not _latency_up(row, baseline, rules):
        return None
    cpu = value(row, "cpu_limit_utilization")
    if cpu is not None and cpu >= rules.latency_cpu_max:
        return None
    window = last(recent, rules.latency_windows)
    sustained = len(window) >= rules.latency_windows and all(
        _latency_up(r, baseline, rules) for r in window
    )
    normal = baseline("latency_p95_ms") or 0.0
    evident = sustained and all(
        (value(r, "latency_p95_ms") or 0.0) >= rules.latency_evident_ratio * normal for r in window
    )
    evidence = {"latency_p95_ms": row.get("latency_p95_ms") or 0.0, "latency_baseline_ms": normal}
    return Pattern("latency_regression", sustained, row.workload, evidence, evident)


_RULES: tuple[Callable[..., Pattern | None], ...] = (
    _node_failure,
    _unschedulable,
    _bad_rollout,
    oom_leak,
    _crash_loop,
    memory_leak,
    _cpu_saturation,
    _error_burst,
    _latency_regression,
)
