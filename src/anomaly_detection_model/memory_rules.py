"""The memory rules: a leak seen by its OOM kills, or forecast from memory's growth.

A leak is named from the trend, before the first OOM kill where possible: a slow one once the
trend reaches the limit within the horizon, a fast one (growth of at least twice the limit per
hour) from one or two windows, as long as the growth is measured, not a slope fitted to noise,
and one window's rise stands out from how much the pod's memory usually swings.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from itertools import pairwise

from anomaly_detection_model.features import FeatureRow
from anomaly_detection_model.issue_rules import (
    OOM_REASONS,
    Baseline,
    IssueRules,
    Pattern,
    last,
    value,
)

DEFAULT_WINDOW_SECONDS = 60.0


def _oom_restart(row: FeatureRow, recent: Sequence[FeatureRow], rules: IssueRules) -> bool:
    """A restart right after memory reached its limit: an OOM kill, even without its event.

    GKE reports OOM kills as the container's last termination reason, not always as an event,
    so the telltale is memory at the limit in the window before the restart.
    """
    if (value(row, "restarts") or 0.0) <= 0:
        return False
    before = recent[-3:-1]
    return any((value(r, "memory_limit_utilization") or 0.0) >= rules.oom_util for r in before)


def oom_leak(
    row: FeatureRow, recent: Sequence[FeatureRow], baseline: Baseline, rules: IssueRules
) -> Pattern | None:
    oom_events = row.events(*OOM_REASONS)
    if not oom_events and not _oom_restart(row, recent, rules):
        return None
    peak = max((value(r, "memory_limit_utilization") or 0.0) for r in recent)
    growing = sum(1 for r in recent[:-1] if (value(r, "memory_slope_bytes_per_s") or 0.0) > 0)
    if peak < rules.memory_util_warn:
        return None
    evidence = {"oom_events": float(oom_events), "memory_peak_utilization": peak}
    return Pattern("memory_leak", growing >= rules.memory_windows - 1, row.workload, evidence)


def _fast_leak(row: FeatureRow, recent: Sequence[FeatureRow], rules: IssueRules) -> float | None:
    """Seconds to the limit when memory has grown fast in each of the last windows, else None.

    The growth must have begun after a window that did not grow fast: a container warming its
    heap and caches from its first window is starting, not leaking.
    """
    util = value(row, "memory_limit_utilization")
    if util is None:
        return None
    rates = [value(r, "memory_growth_per_hour") for r in reversed(recent)]
    growth: list[float] = []
    for g in rates:
        if g is None or g < rules.fast_leak_growth_per_hour:
            break
        growth.append(g)
    run = len(growth)
    if run >= rules.fast_leak_windows:
        if run == len(recent):
            return None
        growth = growth[: rules.fast_leak_windows]
        if not _level_follows(recent, growth):
            return None
    elif not (run and _sudden_leak(recent, rates, rules)):
        return None
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
    past = recent[:-1]
    if before and onset <= before[0] < rules.fast_leak_growth_per_hour:
        before = before[1:]  # the window the leak began in
        past = recent[:-2]  # its rise is the leak's, not the past's swing
    if not before or any(g >= onset for g in before[: rules.fast_leak_steady_windows]):
        return False
    return (
        _level_follows(recent, [rates[0] or 0.0])
        and _above_swing(recent, past, rules)
        and _steady_load(recent, rules)
    )


def _above_swing(
    recent: Sequence[FeatureRow], past: Sequence[FeatureRow], rules: IssueRules
) -> bool:
    """The newest window's rise stands out from how much memory swung between the windows of
    the steady past: one window is all the sudden rule sees, so it must not be a swing."""
    now = value(recent[-1], "memory_limit_utilization")
    before = value(recent[-2], "memory_limit_utilization")
    if now is None or before is None:
        return False
    levels = [value(r, "memory_limit_utilization") for r in past]
    known = [u for u in levels if u is not None][-(rules.fast_leak_noise_windows + 1) :]
    swing = max((abs(b - a) for a, b in pairwise(known)), default=0.0)
    return now - before >= rules.fast_leak_noise_ratio * swing


def _level_follows(recent: Sequence[FeatureRow], growth: Sequence[float]) -> bool:
    """Memory's level rose over the newest `len(growth)` windows by at least half of what their
    slopes (`growth`, newest first, share of the limit per hour) say it should have.

    A slope is fitted to the samples inside one window: when a window gets only a few (a busy
    node, a late exporter), a slope fitted to them can be steep while the level goes nowhere.
    The level measured from one window's end to another's cannot be fooled that way.
    """
    run = len(growth)
    if len(recent) <= run:
        return False
    now = value(recent[-1], "memory_limit_utilization")
    before = value(recent[-1 - run], "memory_limit_utilization")
    if now is None or before is None:
        return False
    elapsed = sum(_window_seconds(r) for r in recent[-run:])
    expected = sum(growth) / run * elapsed / 3600.0
    return now - before >= 0.5 * expected


def _window_seconds(row: FeatureRow) -> float:
    """The row's window length, from its bounds (60 s when they are missing or unreadable)."""
    if row.window_start:
        try:
            start = datetime.fromisoformat(row.window_start)
            end = datetime.fromisoformat(row.window_end)
        except ValueError:
            return DEFAULT_WINDOW_SECONDS
        seconds = (end - start).total_seconds()
        if seconds > 0:
            return seconds
    return DEFAULT_WINDOW_SECONDS


def _steady_load(recent: Sequence[FeatureRow], rules: IssueRules) -> bool:
    """Traffic and CPU did not jump in the newest window: memory that grows with a surge of
    requests is caches and buffers filling, which a restart would not fix."""
    if len(recent) < 2:
        return False
    for name in ("request_rate", "cpu_limit_utilization"):
        now, before = value(recent[-1], name), value(recent[-2], name)
        if now is None or before is None:
            continue
        if now > before * rules.fast_leak_load_change + 0.01:
            return False
    return True


def memory_leak(
    row: FeatureRow, recent: Sequence[FeatureRow], baseline: Baseline, rules: IssueRules
) -> Pattern | None:
    util = value(row, "memory_limit_utilization")
    slope = value(row, "memory_slope_bytes_per_s")
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
            "memory_growth_per_hour": value(row, "memory_growth_per_hour") or 0.0,
            "time_to_oom_seconds": round(fast, 1),
        }
        return Pattern("memory_leak", True, row.workload, evidence, evident=True)
    if util < rules.memory_util_floor:
        return None
    window = last(recent, rules.memory_windows)
    slopes = [value(r, "memory_slope_bytes_per_s") for r in window]
    positive = sum(1 for s in slopes if s is not None and s > 0)
    growth = [value(r, "memory_growth_per_hour") for r in window]
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
