"""In-memory metric store: series keyed like Cloud Monitoring's, points in time order, bounded retention."""

from __future__ import annotations

import bisect
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

from local_cloud.monitoring.timeseries import SeriesKey, TimeSeries, TimeSeriesError


@dataclass
class Series:
    """One series: its identity (from the first point) and its point times and values."""

    first: TimeSeries
    times: list[float] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    latest: TimeSeries | None = None

    def points_after(self, after: float, until: float) -> list[tuple[float, float]]:
        """Points with `after < time <= until`, in time order."""
        lo = bisect.bisect_right(self.times, after)
        hi = bisect.bisect_right(self.times, until)
        return list(zip(self.times[lo:hi], self.values[lo:hi], strict=True))


class MetricStore:
    """Thread-safe store of time series; rejects points older than a series' latest, as Cloud does."""

    def __init__(self, retention_seconds: float = 6 * 3600.0) -> None:
        self.retention_seconds = retention_seconds
        self._series: dict[SeriesKey, Series] = {}
        self._lock = threading.Lock()

    def write(self, points: Iterable[TimeSeries]) -> list[TimeSeriesError]:
        """Store every acceptable point; return one error per rejected point (others are kept)."""
        errors: list[TimeSeriesError] = []
        with self._lock:
            for index, point in enumerate(points):
                series = self._series.get(point.key)
                if series is None:
                    series = self._series[point.key] = Series(first=point)
                if series.times and point.time <= series.times[-1]:
                    errors.append(
                        TimeSeriesError(
                            f"timeSeries[{index}]: points must be written in order; one or more "
                            f"points were older than the most recent point of {point.metric_type}"
                        )
                    )
                    continue
                series.times.append(point.time)
                series.values.append(point.value)
                series.latest = point
                self._trim(series, point.time)
        return errors

    def _trim(self, series: Series, now: float) -> None:
        cut = bisect.bisect_left(series.times, now - self.retention_seconds)
        if cut:
            del series.times[:cut]
            del series.values[:cut]

    def series(self, metric_type: str | None = None) -> list[Series]:
        """Snapshot of the series (optionally of one metric type); points are copied."""
        with self._lock:
            return [
                Series(first=s.first, times=list(s.times), values=list(s.values), latest=s.latest)
                for s in self._series.values()
                if metric_type is None or s.first.metric_type == metric_type
            ]

    def points_after(self, key: SeriesKey, after: float, until: float) -> list[tuple[float, float]]:
        with self._lock:
            series = self._series.get(key)
            return [] if series is None else series.points_after(after, until)

    def keys(self, metric_type: str | None = None) -> list[SeriesKey]:
        with self._lock:
            return [
                k
                for k, s in self._series.items()
                if metric_type is None or s.first.metric_type == metric_type
            ]

    def identity(self, key: SeriesKey) -> TimeSeries | None:
        with self._lock:
            series = self._series.get(key)
            return None if series is None else (series.latest or series.first)
