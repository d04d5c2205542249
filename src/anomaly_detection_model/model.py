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

from anomaly_detection_model.detectors.multivariate import LaggedReconstruction, StreamState
from anomaly_detection_model.features import MODEL_FEATURES, SCHEMA_VERSION, FeatureRow
from anomaly_detection_model.issue_rules import IssueRules
from anomaly_detection_model.issues import Issue, classify
from anomaly_detection_model.normal import EntityNormal, NormalProfile, directional

MODEL_KIND = "gke-heal/entity-model"
HISTORY_WINDOWS = 30  # every rule's look-back; a bad rollout is remembered for this long
DEFAULT_Z_THRESHOLD = 6.0
MIN_Z_THRESHOLD = 4.0
# Above this score an entity's normal learns slowly, so a developing problem is not absorbed.
LEARN_SLOWLY_ABOVE = 0.2
MIN_MULTIVARIATE_ROWS = 200
# The multivariate part only adds to the per-feature score, so it gets a stricter threshold.
MULTIVARIATE_QUANTILE = 0.999
# Before an entity has its own normal, error levels are judged against the fleet's: a new pod
# that logs errors like its peers is not an error burst. (Latency has no fleet-wide normal:
# services differ too much, so a new entity never gets a latency issue until it has its own.)
GLOBAL_BASELINE_FEATURES = frozenset({"error_fraction", "error_log_lines"})
# The score of an issue its evidence proves (a pod pending for minutes, a latency several times
# its normal for minutes): such failures may move few metrics, or move them on an entity whose
# normal earlier faults widened, yet the alert policies compare the score against their
# threshold (0.7 to 0.8; a test checks every one lies under this).
EVIDENT_SCORE = 0.9


@dataclass
class EntityState:
    """What the scorer remembers about one entity between calls."""

    normal: EntityNormal = field(default_factory=EntityNormal)
    history: deque[FeatureRow] = field(default_factory=lambda: deque(maxlen=HISTORY_WINDOWS))
    last_window_end: str = ""
    stream: StreamState | None = None  # the multivariate detector's view of this entity


@dataclass(frozen=True)
class Step:
    """The outcome of scoring one row."""

    score: float
    z: float
    deviations: dict[str, float]
    issue: Issue
    multivariate: float = 0.0


@dataclass
class EntityModel:
    """Learned normal + threshold + issue rules: everything a `Scorer` needs."""

    profile: NormalProfile
    z_threshold: float = DEFAULT_Z_THRESHOLD
    rules: IssueRules = field(default_factory=IssueRules)
    # Reconstruction of the vector of deviations and its recent trajectory, learnt on all
    # training rows: catches combinations each feature's own normal misses.
    multivariate: LaggedReconstruction | None = None
    # Whether the profile's centres are a learned fleet normal (an untrained profile's are
    # placeholders: a cold entity then has no baseline rather than a baseline of zero).
    fleet_baselines: bool = True

    @classmethod
    def untrained(cls) -> EntityModel:
        return cls(profile=NormalProfile.untrained(), fleet_baselines=False)

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
        # First replay learns at full speed (no threshold yet); the second learns exactly as
        # scoring will (slowly while anomalous) and sets the final threshold and the deviation
        # vectors the multivariate part is fitted on.
        for slow in (False, True):
            zs, vectors = model._replay(ordered, slow_when_anomalous=slow)
            if zs:
                model.z_threshold = max(float(np.quantile(zs, quantile)), MIN_Z_THRESHOLD)
        if len(vectors) >= MIN_MULTIVARIATE_ROWS:
            model.multivariate = LaggedReconstruction(quantile=MULTIVARIATE_QUANTILE).fit(
                np.array(vectors)
            )
        return model

    def _replay(
        self, ordered: Sequence[FeatureRow], *, slow_when_anomalous: bool
    ) -> tuple[list[float], list[list[float]]]:
        states: dict[str, EntityState] = {}
        zs: list[float] = []
        vectors: list[list[float]] = []
        for row in ordered:
            state = states.setdefault(row.entity_id, EntityState())
            deviations = state.normal.deviations(row, self.profile)
            z = max(deviations.values(), default=0.0)
            if state.normal.count and deviations:
                zs.append(z)
            if state.normal.warmed_up(self.profile):
                vectors.append(deviation_vector(state.normal, row, self.profile))
            slow = slow_when_anomalous and self.score_of(z) >= LEARN_SLOWLY_ABOVE
            state.normal.learn(row, self.profile, anomalous=slow)
        return zs, vectors

    def score_of(self, z: float) -> float:
        """Map a deviation to [0, 1]: 0.5 at the learned threshold, near 1 at twice it."""
        ratio = z / self.z_threshold
        return float(1.0 - 0.5 ** (ratio * ratio))

    def step(self, row: FeatureRow, state: EntityState) -> Step:
        """Score `row` against the entity's state, classify it, then learn from it."""
        signed = state.normal.signed_deviations(row, self.profile)
        deviations = directional(signed)
        z = max(deviations.values(), default=0.0)
        # Out-of-order rows are scored but not learnt, so replays cannot corrupt the state.
        in_order = row.window_end > state.last_window_end
        multivariate = 0.0
        if self.multivariate is not None and state.normal.warmed_up(self.profile):
            if state.stream is None:
                state.stream = self.multivariate.new_stream()
            vector = [signed.get(name, float("nan")) for name in MODEL_FEATURES]
            multivariate = self.multivariate.score_in(vector, state.stream, learn=in_order)
        score = max(self.score_of(z), multivariate)

        def baseline(name: str) -> float | None:
            own = state.normal.baseline(name, self.profile)
            if own is None and self.fleet_baselines and name in GLOBAL_BASELINE_FEATURES:
                return self.profile.raw_center(name)
            return own

        issue = classify(row, list(state.history), baseline, score, self.rules)
        if issue.evident:
            score = max(score, EVIDENT_SCORE)
        if in_order:
            # Learning slows on the per-feature score only, exactly as in `fit`'s replay, so the
            # deviations the multivariate part sees are distributed as they were in training.
            slow = self.score_of(z) >= LEARN_SLOWLY_ABOVE
            state.normal.learn(row, self.profile, anomalous=slow)
            state.history.append(row)
            state.last_window_end = row.window_end
        return Step(score, z, deviations, issue, multivariate)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": MODEL_KIND,
            "feature_schema": SCHEMA_VERSION,
            "features": list(MODEL_FEATURES),
            "profile": self.profile.to_dict(),
            "z_threshold": self.z_threshold,
            "rules": self.rules.to_dict(),
            "multivariate": self.multivariate.to_dict() if self.multivariate else None,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EntityModel:
        if data.get("kind") != MODEL_KIND:
            raise ValueError(f"model.kind: expected {MODEL_KIND!r}, got {data.get('kind')!r}")
        return cls(
            profile=NormalProfile.from_dict(data["profile"]),
            z_threshold=float(data["z_threshold"]),
            rules=IssueRules.from_dict(data.get("rules", {})),
            multivariate=(
                LaggedReconstruction.from_dict(data["multivariate"])
                if data.get("multivariate")
                else None
            ),
        )


def deviation_vector(normal: EntityNormal, row: FeatureRow, profile: NormalProfile) -> list[float]:
    """Each model feature's signed deviation from the entity's own normal, NaN where missing.

    The multivariate part reads deviations, not raw values, so what it learns (which features
    move together, and how) carries over to entities it never saw.
    """
    signed = normal.signed_deviations(row, profile)
    return [signed.get(name, float("nan")) for name in MODEL_FEATURES]


def top_deviations(deviations: Mapping[str, float], n: int = 3) -> Sequence[str]:
    """The names of the `n` most deviating features, largest first."""
    ranked = sorted(deviations.items(), key=lambda kv: kv[1], reverse=True)
    return [name for name, z in ranked[:n] if z > 0]
