"""Rollout evidence from pod names, for rows that arrive without `rollout_age_seconds`.

A Deployment's pods are named `<deployment>-<pod-template-hash>-<suffix>`, and the hash changes
exactly when the pod template does: a rollout, a rollback or a `rollout restart`, but never a
restart, a reschedule or a scale-out. So a hash that appears (or comes back after being gone)
while the Deployment already had pods marks the start of a rollout. `RevisionTracker` watches
the hashes of each Deployment's pods window by window and fills in the age of the newest
rollout on rows that lack it (contracts §2 makes the feature optional).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from anomaly_detection_model.features import FeatureRow

ROLLOUT_AGE = "rollout_age_seconds"
# A hash unseen for this long counts as new again when it returns (a rollback to it).
FORGET_AFTER_S = 600.0


@dataclass
class _Deployment:
    first_window: float
    last_seen: dict[str, float] = field(default_factory=dict)  # hash → last window it was seen
    rollout_at: float | None = None


def template_hash(pod: str | None, deployment: str | None) -> str | None:
    """The pod-template-hash in a Deployment pod's name, or None for other pods."""
    if not pod or not deployment or not pod.startswith(deployment + "-"):
        return None
    parts = pod[len(deployment) + 1 :].split("-")
    return parts[0] if len(parts) == 2 and parts[0] and parts[1] else None


def _seconds(stamp: str) -> float | None:
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


class RevisionTracker:
    """Per Deployment: which template hashes its pods carry, and when the newest appeared."""

    def __init__(self, max_deployments: int = 50_000) -> None:
        self._deployments: dict[str, _Deployment] = {}
        self.max_deployments = max_deployments

    def observe(self, rows: Sequence[FeatureRow]) -> None:
        """Learn from one batch of rows (all entity types; pod names carry the hash)."""
        for row in rows:
            found = template_hash(row.pod, row.deployment)
            when = _seconds(row.window_end)
            if found is None or when is None or row.namespace is None:
                continue
            key = f"{row.namespace}/{row.deployment}"
            state = self._deployments.get(key)
            if state is None:
                if len(self._deployments) >= self.max_deployments:
                    self._deployments.pop(next(iter(self._deployments)))
                state = self._deployments[key] = _Deployment(first_window=when)
            last = state.last_seen.get(found)
            # Hashes seen in the first window are the revision we started with, not a rollout.
            fresh = last is None or when - last > FORGET_AFTER_S
            if fresh and when > state.first_window:
                state.rollout_at = when if state.rollout_at is None else max(state.rollout_at, when)
            state.last_seen[found] = max(last or when, when)

    def fill(self, row: FeatureRow) -> None:
        """Set the row's rollout age when it has none and a rollout of its workload was seen."""
        if row.values.get(ROLLOUT_AGE) is not None or row.entity_type == "node":
            return
        state = self._deployments.get(f"{row.namespace}/{row.deployment}")
        when = _seconds(row.window_end)
        if state is None or state.rollout_at is None or when is None:
            return
        # The new pods' first window ends up to one window after the template changed.
        row.values[ROLLOUT_AGE] = max(when - state.rollout_at, 0.0)
