"""The entity model that scoring runs: learned normal, score threshold and issue rules together.

`EntityModel.fit` learns it from training rows; `to_dict`/`from_dict` are its artefact
format (plain JSON). `EntityState` is one entity's streaming state, and `EntityModel.step`
scores one row against that state before learning from it, so scoring never looks ahead.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from anomaly_detection_model.features import MODEL_FEATURES, SCHEMA_VERSION, FeatureRow
from anomaly_detection_model.issues import Issue, IssueRules, classify
from anomaly_detection_model.normal import EntityNormal, NormalProfile

MODEL_KIND = "gke-heal/entity-model"
HISTORY_WINDOWS = 16  # enough for every rule's look-back (the rollout rule needs 15)
DEFAULT_Z_THRESHOLD = 6.0
MIN_Z_THRESHOLD = 4.0
# Above this score an entity's normal learns slowly, so a developing problem is not absorbed.
LEARN_SLOWLY_ABOVE = 0.2


@dataclass
class EntityState:
    """What the scorer remembers about one entity between calls."""

    normal: EntityNormal = field(default_factory=EntityNormal)
    history: deque[FeatureRow] = field(default_factory=lambda: deque(maxlen=HISTORY_WINDOWS))
    last_window_end: str = ""


@dataclass(frozen=True)
class Step:
    """The outcome of scoring one row."""

    score: float
    z: float
    deviations: dict[str, float]
    issue: Issue


@dataclass
class EntityModel:
    """Learned normal + threshold + issue rules: everything a `Scorer` needs."""

    profile: NormalProfile
    z_threshold: float = DEFAULT_Z_THRESHOLD
    rules: IssueRules = field(default_factory=IssueRules)

    @classmethod
    def untrained(cls) -> EntityModel:
        return cls(profile=NormalProfile.untrained())

    @classmethod
    def fit(
        cls,
        rows: Iterable[FeatureRow],
        *,
        quantile: float = 0.995,
        rules: IssueRules | None = None,
    ) -> EntityModel:
        """Learn the global profile, then replay the rows per entity to set the threshold.

        The threshold is a high quantile of the training rows' own scores (the largest
        deviation of each row against its entity's normal so far), so it comes from training
        data only.
        """
        ordered = sorted(rows, key=lambda r: (r.entity_id, r.window_end))
        model = cls(profile=NormalProfile.fit(ordered), rules=rules or IssueRules())
        states: dict[str, EntityState] = {}
        zs: list[float] = []
        for row in ordered:
            state = states.setdefault(row.entity_id, EntityState())
            deviations = state.normal.deviations(row, model.profile)
            if state.normal.count and deviations:
                zs.append(max(deviations.values()))
            state.normal.learn(row, model.profile, anomalous=False)
        if zs:
            model.z_threshold = max(float(np.quantile(zs, quantile)), MIN_Z_THRESHOLD)
        return model

    def score_of(self, z: float) -> float:
        """Map a deviation to [0, 1]: 0.5 at the learned threshold, near 1 at twice it."""
        ratio = z / self.z_threshold
        return float(1.0 - 0.5 ** (ratio * ratio))

    def step(self, row: FeatureRow, state: EntityState) -> Step:
        """Score `row` against the entity's state, classify it, then learn from it."""
        deviations = state.normal.deviations(row, self.profile)
        z = max(deviations.values(), default=0.0)
        score = self.score_of(z)

        def baseline(name: str) -> float | None:
            return state.normal.baseline(name, self.profile)

        issue = classify(row, list(state.history), baseline, score, self.rules)
        if row.window_end > state.last_window_end:
            # Out-of-order rows are scored but not learnt, so replays cannot corrupt the state.
            state.normal.learn(row, self.profile, anomalous=score >= LEARN_SLOWLY_ABOVE)
            state.history.append(row)
            state.last_window_end = row.window_end
        return Step(score, z, deviations, issue)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": MODEL_KIND,
            "feature_schema": SCHEMA_VERSION,
            "features": list(MODEL_FEATURES),
            "profile": self.profile.to_dict(),
            "z_threshold": self.z_threshold,
            "rules": self.rules.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EntityModel:
        if data.get("kind") != MODEL_KIND:
            raise ValueError(f"model.kind: expected {MODEL_KIND!r}, got {data.get('kind')!r}")
        return cls(
            profile=NormalProfile.from_dict(data["profile"]),
            z_threshold=float(data["z_threshold"]),
            rules=IssueRules.from_dict(data.get("rules", {})),
        )


def top_deviations(deviations: Mapping[str, float], n: int = 3) -> Sequence[str]:
    """The names of the `n` most deviating features, largest first."""
    ranked = sorted(deviations.items(), key=lambda kv: kv[1], reverse=True)
    return [name for name, z in ranked[:n] if z > 0]
