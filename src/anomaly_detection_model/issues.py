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

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from anomaly_detection_model.features import FeatureRow

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

BACKOFF_REASONS = ("BackOff", "CrashLoopBackOff")
OOM_REASONS = ("OOMKilling", "OOMKilled")
ROLLOUT_REASONS = ("ScalingReplicaSet",)
UNSCHEDULABLE_REASONS = ("FailedScheduling",)
UNHEALTHY_REASONS = ("Unhealthy",)
NODE_DOWN_REASONS = ("NodeNotReady",)


@dataclass(frozen=True)
class IssueRules:
    """Thresholds of the rules; stored with the model so a version is reproducible."""

    critical_score: float = 0.5  # anomaly score a clear pattern needs to become critical
    node_windows: int = 2  # consecutive NotReady windows for a clear node failure
    unschedulable_windows: int = 2  # windows with FailedScheduling among the last three
    # FailedScheduling in this many consecutive windows is critical on its own: a pending pod
    # shows no metric anomaly (it has no metrics), but a brief scheduling wait never lasts this.
    unschedulable_evident_windows: int = 3
    crash_restarts: int = 2  # restarts over the last `crash_windows` windows
    crash_windows: int = 5
    rollout_window_s: float = 900.0  # how long after a new revision problems blame the rollout
    rollout_ready_min: float = 0.9
    rollout_failing_windows: int = 2  # windows in a row of failing pods after a rollout
    memory_util_warn: float = 0.8
    memory_util_critical: float = 0.9
    memory_windows: int = 4  # windows of growth the trend needs
    memory_positive_share: float = 0.75  # of those windows, the share that must grow
    memory_util_floor: float = 0.6  # below this share of the limit no leak is called
    oom_util: float = 0.95  # memory this close to the limit before a restart means OOM kill
    memory_min_growth_per_hour: float = 0.05  # fraction of the limit
    oom_horizon_s: float = 3600.0  # clear leak when OOM is predicted within this
    # A fast leak is clear sooner, wherever memory stands: every one of the last few windows
    # grows by at least this share of the limit per hour (normal pods of the demo shop stay
    # under 1.8 at their noisiest), and the trend reaches the limit within the horizon.
    fast_leak_windows: int = 2
    fast_leak_growth_per_hour: float = 2.0
    fast_leak_horizon_s: float = 1800.0
    # One window of fast growth is clear on a pod with a steady past: at least this many
    # windows before it grew slower than the onset rate, and the level rose as the slope says
    # (so a slope fitted to a few noisy samples is not enough). A leak rarely starts on a
    # window's edge: the window it began in shows part of the growth (half the rate when it
    # began mid-window) and is skipped when it grew at least the onset rate.
    fast_leak_steady_windows: int = 2
    fast_leak_onset_growth_per_hour: float = 1.0
    fast_leak_load_change: float = 1.25  # traffic or CPU up by this factor explains the growth
    cpu_util_high: float = 0.9
    cpu_windows: int = 2  # saturated windows in a row; with slower responses that is clear
    # Pinned at the limit for a whole window while responses slow down: requests are queueing
    # now (the HPA would already be adding pods), so one window is enough.
    cpu_pinned: float = 0.95
    latency_ratio: float = 1.5
    latency_min_increase_ms: float = 50.0
    latency_windows: int = 3
    latency_cpu_max: float = 0.8
    # Slow dependencies make callers time out and log errors; while latency is up and errors
    # stay below this share of requests, the issue is the latency, not an error burst.
    latency_error_fraction_max: float = 0.1
    error_fraction_min: float = 0.05
    error_fraction_ratio: float = 3.0
    error_log_min: float = 10.0
    error_log_ratio: float = 5.0
    error_windows: int = 2

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> IssueRules:
        known = cls.__dataclass_fields__
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass(frozen=True)
class Issue:
    """What the classifier concluded for one entity window."""

    kind: str
    severity: str
    entity: str
    clear: bool
    evidence: dict[str, float] = field(default_factory=dict)
    evident: bool = False  # critical on the events alone, whatever the anomaly score


Baseline = Callable[[str], float | None]


@dataclass(frozen=True)
class Pattern:
    kind: str
    clear: bool
    entity: str
    evidence: dict[str, float]
    # Critical without a strong anomaly score: the Kubernetes events alone prove the failure.
    evident: bool = False


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


def _value(row: FeatureRow, name: str) -> float | None:
    return row.get(name)


def _last(recent: Sequence[FeatureRow], n: int) -> Sequence[FeatureRow]:
    return recent[-n:] if n > 0 else []


def _node_down(r: FeatureRow) -> bool:
    return (_value(r, "node_not_ready") or 0.0) >= 0.5 or bool(r.events(*NODE_DOWN_REASONS))


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
    windows = sum(1 for r in _last(recent, 3) if r.events(*UNSCHEDULABLE_REASONS))
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
    age = _value(row, "rollout_age_seconds")
    if age is not None:
        return 0.0 <= age <= rules.rollout_window_s
    windows = max(int(rules.rollout_window_s // 60), 1)
    return any(r.events(*ROLLOUT_REASONS) for r in _last(recent, windows))


def _symptoms(r: FeatureRow, baseline: Baseline, rules: IssueRules) -> dict[str, float]:
    """The crash, readiness and error symptoms a rollout or crash loop shows in one window."""
    found: dict[str, float] = {}
    restarts = _value(r, "restarts") or 0.0
    if restarts > 0:
        found["restarts"] = restarts
    if r.events(*BACKOFF_REASONS):
        found["backoff_events"] = float(r.events(*BACKOFF_REASONS))
    if r.events(*UNHEALTHY_REASONS):
        found["probe_failures"] = float(r.events(*UNHEALTHY_REASONS))
    ready = _value(r, "ready")
    if ready is not None and ready < rules.rollout_ready_min:
        found["ready"] = ready
    if _error_rise(r, baseline, rules):
        found["error_fraction"] = _value(r, "error_fraction") or 0.0
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
    age = _value(row, "rollout_age_seconds")
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
    cpu = _value(row, "cpu_limit_utilization") or 0.0
    return cpu >= rules.cpu_util_high and set(symptoms) <= {"error_fraction", "ready"}


def _failing_pods(r: FeatureRow) -> bool:
    """Kubernetes says pods fail: probe failures, back-off, or restarts in the window."""
    return bool(r.events(*UNHEALTHY_REASONS, *BACKOFF_REASONS)) or (_value(r, "restarts") or 0) > 0


def _crash_loop(
    row: FeatureRow, recent: Sequence[FeatureRow], baseline: Baseline, rules: IssueRules
) -> Pattern | None:
    window = _last(recent, rules.crash_windows)
    restarts = sum(_value(r, "restarts") or 0.0 for r in window)
    backoff = sum(r.events(*BACKOFF_REASONS) for r in _last(recent, 3))
    if (_value(row, "restarts") or 0.0) <= 0 and not row.events(*BACKOFF_REASONS):
        return None
    evidence = {"restarts_recent": restarts, "backoff_events": float(backoff)}
    clear = restarts >= rules.crash_restarts and backoff > 0
    return Pattern("crash_loop", clear, row.workload, evidence)


def _oom_restart(row: FeatureRow, recent: Sequence[FeatureRow], rules: IssueRules) -> bool:
    """A restart right after memory reached its limit: an OOM kill, even without its event.

    GKE reports OOM kills as the container's last termination reason, not always as an event,
    so the telltale is memory at the limit in the window before the restart.
    """
    if (_value(row, "restarts") or 0.0) <= 0:
        return False
    before = recent[-3:-1]
    return any((_value(r, "memory_limit_utilization") or 0.0) >= rules.oom_util for r in before)


def _oom_leak(
    row: FeatureRow, recent: Sequence[FeatureRow], baseline: Baseline, rules: IssueRules
) -> Pattern | None:
    oom_events = row.events(*OOM_REASONS)
    if not oom_events and not _oom_restart(row, recent, rules):
        return None
    peak = max((_value(r, "memory_limit_utilization") or 0.0) for r in recent)
    growing = sum(1 for r in recent[:-1] if (_value(r, "memory_slope_bytes_per_s") or 0.0) > 0)
    if peak < rules.memory_util_warn:
        return None
    evidence = {"oom_events": float(oom_events), "memory_peak_utilization": peak}
    return Pattern("memory_leak", growing >= rules.memory_windows - 1, row.workload, evidence)


def _fast_leak(row: FeatureRow, recent: Sequence[FeatureRow], rules: IssueRules) -> float | None:
    """Seconds to the limit when memory has grown fast in each of the last windows, else None.

    The growth must have begun after a window that did not grow fast: a container warming its
    heap and caches from its first window is starting, not leaking.
    """
    util = _value(row, "memory_limit_utilization")
    if util is None:
        return None
    rates = [_value(r, "memory_growth_per_hour") for r in reversed(recent)]
    growth: list[float] = []
    for g in rates:
        if g is None or g < rules.fast_leak_growth_per_hour:
            break
        growth.append(g)
    run = len(growth)
    if run >= rules.fast_leak_windows:
        if run == len(recent):
            return None
    elif not (run and _sudden_leak(recent, rates, rules)):
        return None
    growth = growth[: rules.fast_leak_windows]
    per_second = sum(growth) / len(growth) / 3600.0
    to_oom = max(1.0 - util, 0.0) / per_second
    return to_oom if to_oom <= rules.fast_leak_horizon_s else None


def _sudden_leak(
    recent: Sequence[FeatureRow], rates: Sequence[float | None], rules: IssueRules
) -> bool:
    """The newest window (fast growth) follows a steady past: a leak that began just now.

    `rates` are the windows' growth per hour, newest first. Windows without a slope (too few
    samples) are passed over, but at least one measured window must have been steady; a pod
    too young to have a steady past never qualifies, so a container warming up is no leak.
    """
    if len(recent) <= rules.fast_leak_steady_windows + 1:
        return False  # too young to have a steady past: maybe a container warming up
    before = [g for g in rates[1 : 2 + rules.fast_leak_steady_windows] if g is not None]
    onset = rules.fast_leak_onset_growth_per_hour
    if before and onset <= before[0] < rules.fast_leak_growth_per_hour:
        before = before[1:]  # the window the leak began in
    if not before or any(g >= onset for g in before[: rules.fast_leak_steady_windows]):
        return False
    now = _value(recent[-1], "memory_limit_utilization")
    earlier = [u for r in recent[:-1] if (u := _value(r, "memory_limit_utilization")) is not None]
    growth = rates[0] or 0.0
    # Half the rise a minute of that growth makes: the level must move with the slope.
    rose = now is not None and bool(earlier) and now - earlier[-1] >= growth / 120.0
    return rose and _steady_load(recent, rules)


def _steady_load(recent: Sequence[FeatureRow], rules: IssueRules) -> bool:
    """Traffic and CPU did not jump in the newest window: memory that grows with a surge of
    requests is caches and buffers filling, which a restart would not fix."""
    if len(recent) < 2:
        return False
    for name in ("request_rate", "cpu_limit_utilization"):
        now, before = _value(recent[-1], name), _value(recent[-2], name)
        if now is None or before is None:
            continue
        if now > before * rules.fast_leak_load_change + 0.01:
            return False
    return True


def _memory_leak(
    row: FeatureRow, recent: Sequence[FeatureRow], baseline: Baseline, rules: IssueRules
) -> Pattern | None:
    util = _value(row, "memory_limit_utilization")
    slope = _value(row, "memory_slope_bytes_per_s")
    if util is None or slope is None or slope <= 0:
        return None
    fast = _fast_leak(row, recent, rules)
    if fast is not None:
        # Acting now, at whatever level, is what keeps the first OOM kill from happening.
        # The forecast is the proof: memory measured climbing at this rate reaches the limit
        # within the horizon, however unremarkable the pod's other metrics look (a learned
        # normal that includes warm-ups scores a leak's slope weakly), so it is evident.
        evidence = {
            "memory_limit_utilization": util,
            "memory_growth_per_hour": _value(row, "memory_growth_per_hour") or 0.0,
            "time_to_oom_seconds": round(fast, 1),
        }
        return Pattern("memory_leak", True, row.workload, evidence, evident=True)
    if util < rules.memory_util_floor:
        return None
    window = _last(recent, rules.memory_windows)
    slopes = [_value(r, "memory_slope_bytes_per_s") for r in window]
    positive = sum(1 for s in slopes if s is not None and s > 0)
    growth = [_value(r, "memory_growth_per_hour") for r in window]
    mean_growth = sum(g or 0.0 for g in growth) / max(len(growth), 1)
    sustained = (
        len(window) >= rules.memory_windows
        and positive >= math.ceil(rules.memory_positive_share * rules.memory_windows)
        and mean_growth >= rules.memory_min_growth_per_hour
    )
    if not sustained:
        return None
    evidence = {"memory_limit_utilization": util, "memory_growth_per_hour": mean_growth}
    limit = row.get("memory_limit_bytes")
    tto = None
    if limit:
        mean_slope = sum(s or 0.0 for s in slopes) / len(slopes)
        if mean_slope > 0:
            tto = max(1.0 - util, 0.0) * limit / mean_slope
            evidence["time_to_oom_seconds"] = round(tto, 1)
    # The leak is clear once the trend predicts the limit soon: early enough to act before
    # the first OOM kill, which is the point of forecasting instead of waiting for 90%.
    if tto is not None:
        clear = util >= rules.memory_util_floor and tto <= rules.oom_horizon_s
    else:
        clear = util >= rules.memory_util_critical
    return Pattern("memory_leak", clear, row.workload, evidence)


def _latency_up(r: FeatureRow, baseline: Baseline, rules: IssueRules) -> bool:
    latency = _value(r, "latency_p95_ms")
    normal = baseline("latency_p95_ms")
    if latency is None or normal is None:
        return False
    return latency >= max(normal * rules.latency_ratio, normal + rules.latency_min_increase_ms)


def _cpu_saturation(
    row: FeatureRow, recent: Sequence[FeatureRow], baseline: Baseline, rules: IssueRules
) -> Pattern | None:
    window = _last(recent, rules.cpu_windows)
    high = [(_value(r, "cpu_limit_utilization") or 0.0) >= rules.cpu_util_high for r in window]
    if not high[-1]:
        return None
    pinned = (_value(row, "cpu_limit_utilization") or 0.0) >= rules.cpu_pinned
    sustained = (len(window) >= rules.cpu_windows and all(high)) or pinned
    slow = _latency_up(row, baseline, rules)
    evidence = {"cpu_limit_utilization": _value(row, "cpu_limit_utilization") or 0.0}
    if row.get("latency_p95_ms") is not None:
        evidence["latency_p95_ms"] = row.get("latency_p95_ms") or 0.0
    return Pattern("cpu_saturation", sustained and slow, row.workload, evidence)


def _error_rise(r: FeatureRow, baseline: Baseline, rules: IssueRules) -> bool:
    fraction = _value(r, "error_fraction")
    if fraction is not None:
        normal = baseline("error_fraction") or 0.0
        limit = max(rules.error_fraction_min, normal * rules.error_fraction_ratio + 0.02)
        if fraction >= limit:
            return True
    # A service that answers requests has a better error measure than its logs. While nothing
    # says what its normal error logging is (a cold start), a steady trickle of error lines
    # from a busy cache whose requests almost all succeed is no burst. Entities without
    # request metrics (workers, a new pod not yet in service) are judged on their logs alone.
    serving = (_value(r, "request_rate") or 0.0) > 0 and fraction is not None
    if serving and baseline("error_log_lines") is None:
        return False
    error_logs = _value(r, "error_log_lines")
    if error_logs is not None:
        normal_logs = baseline("error_log_lines") or 0.0
        if error_logs >= max(rules.error_log_min, normal_logs * rules.error_log_ratio):
            return True
    return False


def _timeouts_of_slowness(r: FeatureRow, baseline: Baseline, rules: IssueRules) -> bool:
    """Errors that a latency regression explains: latency is up and few requests fail."""
    if not _latency_up(r, baseline, rules):
        return False
    fraction = _value(r, "error_fraction")
    return fraction is not None and fraction < rules.latency_error_fraction_max


def _error_burst(
    row: FeatureRow, recent: Sequence[FeatureRow], baseline: Baseline, rules: IssueRules
) -> Pattern | None:
    if not _error_rise(row, baseline, rules) or _timeouts_of_slowness(row, baseline, rules):
        return None
    window = _last(recent, rules.error_windows)
    sustained = len(window) >= rules.error_windows and all(
        _error_rise(r, baseline, rules) for r in window
    )
    evidence = {
        name: value
        for name in ("error_fraction", "error_log_lines", "error_rate")
        if (value := row.get(name)) is not None
    }
    return Pattern("error_burst", sustained, row.workload, evidence)


def _latency_regression(
    row: FeatureRow, recent: Sequence[FeatureRow], baseline: Baseline, rules: IssueRules
) -> Pattern | None:
    if not _latency_up(row, baseline, rules):
        return None
    cpu = _value(row, "cpu_limit_utilization")
    if cpu is not None and cpu >= rules.latency_cpu_max:
        return None
    window = _last(recent, rules.latency_windows)
    sustained = len(window) >= rules.latency_windows and all(
        _latency_up(r, baseline, rules) for r in window
    )
    evidence = {
        "latency_p95_ms": row.get("latency_p95_ms") or 0.0,
        "latency_baseline_ms": baseline("latency_p95_ms") or 0.0,
    }
    return Pattern("latency_regression", sustained, row.workload, evidence)


_RULES: tuple[Callable[..., Pattern | None], ...] = (
    _node_failure,
    _unschedulable,
    _bad_rollout,
    _oom_leak,
    _crash_loop,
    _memory_leak,
    _cpu_saturation,
    _error_burst,
    _latency_regression,
)
