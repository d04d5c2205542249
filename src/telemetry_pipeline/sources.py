"""Per-window statistics of one source (container, pod or node): the combinable half of features.

Points and log lines are folded into `SourceStats` in any order; two partial stats of the same
source and window merge exactly (count, extremes, first and last point, and a Welford/Chan
running covariance for slopes), so Beam can combine them in parallel and the in-process runner
can fold them one by one with the same code.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from telemetry_pipeline.records import LogRecord, MetricPoint, SourceKey
from telemetry_pipeline.templates import template_id

CUMULATIVE = "CUMULATIVE"


@dataclass(slots=True)
class Baseline:
    """A cumulative point carried into the next window as that window's starting value."""

    point: MetricPoint

    @property
    def source(self) -> SourceKey:
        return self.point.source


@dataclass(slots=True)
class SeriesStats:
    """Running statistics of one time series inside one window."""

    n: int = 0
    first_t: float = 0.0
    first_v: float = 0.0
    last_t: float = 0.0
    last_v: float = 0.0
    mean_t: float = 0.0
    mean_v: float = 0.0
    m2_t: float = 0.0
    c_tv: float = 0.0
    max_v: float = float("-inf")

    def add(self, t: float, v: float) -> None:
        n = self.n = self.n + 1
        if n == 1 or t < self.first_t:
            self.first_t, self.first_v = t, v
        if n == 1 or t >= self.last_t:
            self.last_t, self.last_v = t, v
        if v > self.max_v:
            self.max_v = v
        dt = t - self.mean_t if n > 1 else 0.0
        if n == 1:
            self.mean_t, self.mean_v = t, v
            return
        self.mean_t += dt / n
        dv = v - self.mean_v
        self.mean_v += dv / n
        self.m2_t += dt * (t - self.mean_t)
        self.c_tv += dt * (v - self.mean_v)

    def merge(self, other: SeriesStats) -> None:
        if other.n == 0:
            return
        if self.n == 0:
            for name in self.__slots__:
                setattr(self, name, getattr(other, name))
            return
        n = self.n + other.n
        dt = other.mean_t - self.mean_t
        dv = other.mean_v - self.mean_v
        weight = self.n * other.n / n
        self.m2_t += other.m2_t + dt * dt * weight
        self.c_tv += other.c_tv + dt * dv * weight
        self.mean_t += dt * other.n / n
        self.mean_v += dv * other.n / n
        if other.first_t < self.first_t:
            self.first_t, self.first_v = other.first_t, other.first_v
        if other.last_t >= self.last_t:
            self.last_t, self.last_v = other.last_t, other.last_v
        self.max_v = max(self.max_v, other.max_v)
        self.n = n

    def _start(self, baseline: tuple[float, float] | None) -> tuple[float, float]:
        if baseline is not None and baseline[0] < self.first_t:
            return baseline
        return self.first_t, self.first_v

    def rate(self, baseline: tuple[float, float] | None = None) -> float | None:
        """Per-second increase of a cumulative series (a reset counts from zero), measured from
        the previous window's last point when there is one."""
        start_t, start_v = self._start(baseline)
        span = self.last_t - start_t
        if self.n == 0 or span <= 0:
            return None
        delta = self.last_v - start_v
        return (delta if delta >= 0 else self.last_v) / span

    def increase(self, baseline: tuple[float, float] | None = None) -> float:
        """Increase of a cumulative counter since the previous window's last point (or, without
        one, since the window's first point); a reset counts from zero."""
        _, start_v = self._start(baseline)
        delta = self.last_v - start_v
        return delta if delta >= 0 else self.last_v

    def slope(self) -> float | None:
        """Least-squares slope of value over time, per second."""
        if self.n < 2 or self.m2_t <= 0:
            return None
        return self.c_tv / self.m2_t


@dataclass(slots=True)
class SourceStats:
    """Everything one source said during one window."""

    deployment: str | None = None
    node: str | None = None
    series: dict[str, SeriesStats] = field(default_factory=dict)
    node_ready: tuple[float, bool] | None = None
    log_lines: int = 0
    error_log_lines: int = 0
    templates: dict[str, int] = field(default_factory=dict)
    event_reasons: dict[str, int] = field(default_factory=dict)
    points: int = 0
    # The previous window's last point of each cumulative series: counters are measured from
    # it, so an increase between two windows' points is not lost.
    baselines: dict[str, tuple[float, float]] = field(default_factory=dict)

    @property
    def has_data(self) -> bool:
        """False when the source only carried baselines into this window."""
        return bool(self.points or self.log_lines or self.event_reasons)

    def add_baseline(self, point: MetricPoint) -> None:
        known = self.baselines.get(point.metric_type)
        if known is None or point.time > known[0]:
            self.baselines[point.metric_type] = (point.time, point.value)

    def add_metric(self, point: MetricPoint) -> None:
        self.points += 1
        if point.deployment and not self.deployment:
            self.deployment = point.deployment
        if point.node and not self.node:
            self.node = point.node
        if point.metric_type == "kubernetes.io/node/status_condition":
            if point.labels.get("condition", "Ready") == "Ready" and point.value:
                ready = point.labels.get("status", "True") == "True"
                if self.node_ready is None or point.time >= self.node_ready[0]:
                    self.node_ready = (point.time, ready)
            return
        stats = self.series.get(point.metric_type)
        if stats is None:
            stats = self.series[point.metric_type] = SeriesStats()
        stats.add(point.time, point.value)

    def add_log(self, record: LogRecord) -> None:
        if record.deployment and not self.deployment:
            self.deployment = record.deployment
        if record.node and not self.node:
            self.node = record.node
        if record.event_reason is not None:
            reasons = self.event_reasons
            reasons[record.event_reason] = reasons.get(record.event_reason, 0) + 1
            return
        self.log_lines += 1
        if record.is_error:
            self.error_log_lines += 1
        ident = template_id(record.message)
        self.templates[ident] = self.templates.get(ident, 0) + 1

    def merge(self, other: SourceStats) -> SourceStats:
        self.deployment = self.deployment or other.deployment
        self.node = self.node or other.node
        for name, stats in other.series.items():
            mine = self.series.get(name)
            if mine is None:
                mine = self.series[name] = SeriesStats()
            mine.merge(stats)
        if other.node_ready is not None and (
            self.node_ready is None or other.node_ready[0] >= self.node_ready[0]
        ):
            self.node_ready = other.node_ready
        self.log_lines += other.log_lines
        self.error_log_lines += other.error_log_lines
        for key, count in other.templates.items():
            self.templates[key] = self.templates.get(key, 0) + count
        for key, count in other.event_reasons.items():
            self.event_reasons[key] = self.event_reasons.get(key, 0) + count
        self.points += other.points
        for name, (t, v) in other.baselines.items():
            known = self.baselines.get(name)
            if known is None or t > known[0]:
                self.baselines[name] = (t, v)
        return self
