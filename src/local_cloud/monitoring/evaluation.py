"""Alert-policy evaluation with Cloud Monitoring's threshold semantics, driven by a clock.

Points are consumed in time order, so the outcome depends only on the points and on the
times `evaluate(now)` is asked about, never on how often it is called:

- a condition is met once a series has breached the threshold without a break for the
  policy's duration (consecutive breaching points further apart than two alignment periods
  are a break); the incident starts at the point that completed the duration;
- one incident per policy and series (metric labels + resource labels) at a time; with
  `group_by_fields`, series are first reduced across the other labels (ALIGN_MAX per
  alignment period, then REDUCE_MAX), so one incident stands for each group (a workload),
  with only the grouped labels (and the project) on its metric and resource;
- an open incident closes at the first point back under the threshold (the condition is no
  longer met), or once the series has gone `auto_close_seconds` without data; it then ends
  at last breach + auto-close.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, replace

from local_cloud.monitoring.incident import Incident, incident_id
from local_cloud.monitoring.policies import AlertPolicy
from local_cloud.monitoring.store import MetricStore
from local_cloud.monitoring.timeseries import SeriesKey, TimeSeries


@dataclass(frozen=True)
class IncidentChange:
    """An incident opened or closed during one evaluation; what channels are told about."""

    kind: str  # "opened" | "closed"
    incident: Incident


@dataclass
class _SeriesState:
    """Where evaluation of one policy on one series stands."""

    last_point_at: float | None = None
    run_started_at: float | None = None
    last_breach_at: float | None = None
    incident: Incident | None = None


class AlertEvaluator:
    """Evaluates every policy against every matching series of a store."""

    def __init__(self, policies: tuple[AlertPolicy, ...], store: MetricStore, project: str) -> None:
        self.policies = policies
        self.store = store
        self.project = project
        self._state: dict[tuple[str, SeriesKey], _SeriesState] = {}
        self._incidents: dict[str, Incident] = {}
        self._groups: dict[SeriesKey, TimeSeries] = {}  # reduced series, by their key

    def evaluate(self, now: float) -> list[IncidentChange]:
        """Consume points up to `now`; return the incidents that opened or closed, in time order."""
        changes: list[IncidentChange] = []
        metric_types = {p.metric_type for p in self.policies}
        for metric_type in sorted(metric_types):
            groups: dict[tuple[str, SeriesKey], list[SeriesKey]] = defaultdict(list)
            grouped: dict[str, AlertPolicy] = {}
            for key in self.store.keys(metric_type):
                identity = self.store.identity(key)
                if identity is None:
                    continue
                for policy in self.policies:
                    if not policy.matches(
                        identity.metric_type, identity.resource_type, identity.metric_labels
                    ):
                        continue
                    if policy.group_by_fields:
                        group = self._group_identity(policy, identity)
                        groups[(policy.name, group.key)].append(key)
                        self._groups[group.key] = group
                        grouped[policy.name] = policy
                    else:
                        changes.extend(self._evaluate_series(policy, key, now))
            for (name, group_key), members in groups.items():
                changes.extend(self._evaluate_group(grouped[name], group_key, members, now))
        changes.sort(key=lambda c: (_change_time(c), c.incident.id, c.kind))
        return changes

    def _group_identity(self, policy: AlertPolicy, series: TimeSeries) -> TimeSeries:
        """The reduced series `series` belongs to: only the grouped labels survive."""
        metric = {
            k: v
            for k, v in series.metric_labels.items()
            if f"metric.label.{k}" in policy.group_by_fields
        }
        resource = {
            k: v
            for k, v in series.resource_labels.items()
            if k == "project_id" or f"resource.label.{k}" in policy.group_by_fields
        }
        return replace(series, metric_labels=metric, resource_labels=resource, user_labels={})

    def _evaluate_group(
        self, policy: AlertPolicy, group: SeriesKey, members: list[SeriesKey], now: float
    ) -> list[IncidentChange]:
        """ALIGN_MAX per alignment period, REDUCE_MAX across the members, then the condition."""
        state = self._state.setdefault((policy.name, group), _SeriesState())
        after = float("-inf") if state.last_point_at is None else state.last_point_at
        period = policy.alignment_period_seconds
        reduced: dict[float, float] = {}
        for key in members:
            for time, value in self.store.points_after(key, after, now):
                aligned = math.ceil(time / period) * period
                if aligned <= after:
                    continue  # that period was judged already: a late point, as Cloud drops it
                reduced[aligned] = max(value, reduced.get(aligned, value))
        points = sorted((t, v) for t, v in reduced.items() if t <= now)
        return self._consume(policy, group, state, points, now)

    def _evaluate_series(
        self, policy: AlertPolicy, key: SeriesKey, now: float
    ) -> list[IncidentChange]:
        state = self._state.setdefault((policy.name, key), _SeriesState())
        after = float("-inf") if state.last_point_at is None else state.last_point_at
        return self._consume(policy, key, state, self.store.points_after(key, after, now), now)

    def _consume(
        self,
        policy: AlertPolicy,
        key: SeriesKey,
        state: _SeriesState,
        points: list[tuple[float, float]],
        now: float,
    ) -> list[IncidentChange]:
        changes: list[IncidentChange] = []
        max_gap = 2 * policy.alignment_period_seconds
        for time, value in points:
            changes.extend(self._close_if_quiet(policy, state, time))
            if state.incident is not None:
                state.incident.observed_value = value
            if not policy.breaches(value):
                state.run_started_at = None
                changes.extend(self._close_when_met_no_longer(state, time))
            else:
                broken = state.last_point_at is None or time - state.last_point_at > max_gap
                if state.run_started_at is None or broken:
                    state.run_started_at = time
                state.last_breach_at = time
                if state.incident is not None:
                    state.incident.last_breach_at = time
                elif time - state.run_started_at >= policy.duration_seconds:
                    changes.append(self._open(policy, key, state, time, value))
            state.last_point_at = time
        changes.extend(self._close_if_quiet(policy, state, now))
        return changes

    def _open(
        self, policy: AlertPolicy, key: SeriesKey, state: _SeriesState, time: float, value: float
    ) -> IncidentChange:
        series = self._groups.get(key) or self.store.identity(key)
        assert series is not None  # the key came from the store, which never forgets a series
        started = int(time)
        incident = Incident(
            id=incident_id(policy, series, started),
            policy=policy,
            series=series,
            project=self.project,
            started_at=started,
            observed_value=value,
            last_breach_at=time,
        )
        state.incident = incident
        self._incidents[incident.id] = incident
        return IncidentChange("opened", incident)

    def _close_when_met_no_longer(self, state: _SeriesState, time: float) -> list[IncidentChange]:
        """Data back under the threshold closes the incident, as Cloud Monitoring does; only
        a series that goes silent waits for `auto_close_seconds`."""
        incident = state.incident
        if incident is None:
            return []
        incident.ended_at = int(time)
        state.incident = None
        return [IncidentChange("closed", incident)]

    def _close_if_quiet(
        self, policy: AlertPolicy, state: _SeriesState, now: float
    ) -> list[IncidentChange]:
        incident = state.incident
        if incident is None or now - incident.last_breach_at < policy.auto_close_seconds:
            return []
        incident.ended_at = int(incident.last_breach_at + policy.auto_close_seconds)
        state.incident = None
        state.run_started_at = None
        return [IncidentChange("closed", incident)]

    def incidents(self, state: str = "all") -> list[Incident]:
        """Incidents known so far, oldest first; `state` is `open`, `closed` or `all`."""
        found = [i for i in self._incidents.values() if state in ("all", i.state)]
        return sorted(found, key=lambda i: (i.started_at, i.id))

    def incident(self, incident_id: str) -> Incident | None:
        return self._incidents.get(incident_id)


def _change_time(change: IncidentChange) -> float:
    incident = change.incident
    if change.kind == "closed" and incident.ended_at is not None:
        return float(incident.ended_at)
    return float(incident.started_at)
