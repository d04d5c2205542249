"""What every issue rule shares: the thresholds, the pattern a rule returns, and row access.

The rules themselves live in `issues` (and `memory_rules` for memory): each looks at an
entity's current window and the few before it and returns a `Pattern` or None.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from anomaly_detection_model.features import FeatureRow

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
    # under 1.8 at their noisiest), the trend reaches the limit within the horizon, and the
    # level rose over those windows by at least half what their slopes say (a slope fitted to
    # the few samples of a starved window can be steep while the level stands still).
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
    # ... and the level rose by at least this many times the largest window-to-window move of
    # the steady past: on a pod whose memory swings 1% of the limit a window, a 2% rise is a
    # swing (seen on a healthy queue worker), while a leak's first window rises 4-20 times.
    fast_leak_noise_ratio: float = 3.0
    fast_leak_noise_windows: int = 5  # past window-to-window moves that measure the swing
    cpu_util_high: float = 0.9
    cpu_windows: int = 2  # saturated windows in a row; with slower responses that is clear
    # Pinned at the limit for a whole window while responses slow down: requests are queueing
    # now (the HPA would already be adding pods), so one window is enough.
    cpu_pinned: float = 0.95
    latency_ratio: float = 1.5
    latency_min_increase_ms: float = 50.0
    latency_windows: int = 3
    latency_cpu_max: float = 0.8
    # A sustained latency this many times its normal in every window is evident: critical and
    # alerting whatever the anomaly score.
    latency_evident_ratio: float = 3.0
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


Baseline = Callable[[str], float | None]


@dataclass(frozen=True)
class Pattern:
    kind: str
    clear: bool
    entity: str
    evidence: dict[str, float]
    # Critical without a strong anomaly score: the Kubernetes events alone prove the failure.
    evident: bool = False


def value(row: FeatureRow, name: str) -> float | None:
    """The row's value of a feature, None when it was not measured."""
    return row.get(name)


def last(recent: Sequence[FeatureRow], n: int) -> Sequence[FeatureRow]:
    """The newest `n` windows (oldest first)."""
    return recent[-n:] if n > 0 else []
