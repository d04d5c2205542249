"""The scoring interface of contracts §3, the one module the telemetry pipeline may import.

    scorer = Scorer.load("/var/lib/gke-heal/models", "latest")   # or gs://bucket/models
    verdicts = scorer.score(rows)    # rows: contracts §2 dicts; one verdict per row, same order

The scorer keeps per-entity state between calls (streaming): each row is scored against what
its entity's earlier rows taught, then learnt, so it never looks ahead. Rows of one call are
processed in the order given. A malformed row raises `FeatureRowError` naming the row index
and field, before any state changes. An empty registry raises `RegistryError` (a LookupError):
fall back to `Scorer.untrained()`, which learns each entity's normal from its first windows.
To swap in a new version on a live loop, `Scorer.load(...).adopt(old_scorer)` keeps what the
old one learnt per entity.

`LogTemplateParser` (Drain) is re-exported here for the pipeline's `log_templates` and
`new_log_templates` features: `group = parser.add(line)`; `group.group_id` is the template id
(stable for the parser's lifetime), and `group.size == 1` right after `add` means a new template.
"""

from __future__ import annotations

import copy
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any

from anomaly_detection_model.features import FeatureRow, FeatureRowError
from anomaly_detection_model.logs.drain import Drain as LogTemplateParser
from anomaly_detection_model.model import EntityModel, EntityState, top_deviations
from anomaly_detection_model.normal import EntityNormal
from anomaly_detection_model.registry import LATEST, Registry, RegistryError
from anomaly_detection_model.revisions import RevisionTracker

__all__ = ["FeatureRowError", "LogTemplateParser", "RegistryError", "Scorer", "Verdict"]

Verdict = dict[str, Any]

DEFAULT_MAX_ENTITIES = 50_000
UNTRAINED_VERSION = "untrained"


class Scorer:
    """Scores feature rows with one model version, remembering each entity's recent past."""

    def __init__(
        self,
        model: EntityModel,
        model_version: str,
        *,
        max_entities: int = DEFAULT_MAX_ENTITIES,
    ) -> None:
        self.model = model
        self.model_version = model_version
        self.max_entities = max_entities
        self._states: OrderedDict[str, EntityState] = OrderedDict()
        # Rollouts seen from pod-template hashes, for rows without `rollout_age_seconds`.
        self._revisions = RevisionTracker(max_deployments=max_entities)

    @classmethod
    def load(cls, registry: str, version: str = LATEST) -> Scorer:
        """The scorer of a registered version (`latest` = newest) in a folder or gs:// registry."""
        artefact = Registry(registry).load(version)
        return cls(EntityModel.from_dict(artefact.model), artefact.version)

    @classmethod
    def untrained(cls) -> Scorer:
        """A scorer with no training: entities learn their own normal from their first windows."""
        return cls(EntityModel.untrained(), UNTRAINED_VERSION)

    def score(self, rows: Sequence[Mapping[str, Any]]) -> list[Verdict]:
        """One verdict per row (contracts §3), in the order of `rows`."""
        parsed: list[FeatureRow] = []
        for index, row in enumerate(rows):
            try:
                parsed.append(FeatureRow.parse(row))
            except FeatureRowError as exc:
                raise FeatureRowError(f"rows[{index}].{exc}") from None
        # The whole call first: a new pod's hash dates the rollout for its Deployment's row too.
        self._revisions.observe(parsed)
        for parsed_row in parsed:
            self._revisions.fill(parsed_row)
        return [self._score_one(parsed_row) for parsed_row in parsed]

    def adopt(self, previous: Scorer) -> Scorer:
        """Take over what `previous` learnt about each entity; returns self.

        For swapping in a newly trained version on a live loop: without this every entity
        starts cold (no normal of its own, no history), so a fault in the first minutes after
        the swap is scored as unremarkable. The multivariate part's recent trajectory belongs
        to the old model and starts afresh.
        """
        for entity_id, state in previous._states.items():
            self._states[entity_id] = EntityState(
                normal=state.normal,
                history=state.history,
                last_window_end=state.last_window_end,
            )
        self._revisions = previous._revisions
        return self

    @property
    def entities(self) -> int:
        """How many entities the scorer currently remembers."""
        return len(self._states)

    def _state(self, row: FeatureRow) -> EntityState:
        entity_id = row.entity_id
        state = self._states.get(entity_id)
        if state is None:
            state = EntityState(normal=self._sibling_normal(row))
            self._states[entity_id] = state
            if len(self._states) > self.max_entities:
                # Forget the entity silent for longest: bounded memory on a churning cluster.
                self._states.popitem(last=False)
        else:
            self._states.move_to_end(entity_id)
        return state

    def _sibling_normal(self, row: FeatureRow) -> EntityNormal:
        """A new pod starts from the normal of a warmed-up pod of the same Deployment.

        Replicas are interchangeable, so a pod created by a restart, a rollout or a scale-out
        is judged against its siblings' normal from its first window, instead of scoring as
        unremarkable for the ten windows it would need to learn its own. (Its history, which
        the rules read, stays its own: a container warming up is still seen as starting.)
        """
        if row.entity_type != "pod" or not row.deployment:
            return EntityNormal()
        for entity_id in reversed(self._states):
            state = self._states[entity_id]
            last = state.history[-1] if state.history else None
            if (
                last is not None
                and last.entity_type == "pod"
                and last.namespace == row.namespace
                and last.deployment == row.deployment
                and state.normal.warmed_up(self.model.profile)
            ):
                return copy.deepcopy(state.normal)
        return EntityNormal()

    def _score_one(self, row: FeatureRow) -> Verdict:
        step = self.model.step(row, self._state(row))
        evidence: dict[str, float] = dict(step.issue.evidence)
        if step.multivariate >= 0.5:
            evidence["multivariate_score"] = round(step.multivariate, 4)
        for name in top_deviations(step.deviations):
            value = row.get(name)
            if value is not None:
                evidence.setdefault(name, value)
        return {
            "entity_type": row.entity_type,
            "entity_id": row.entity_id,
            "namespace": row.namespace,
            "deployment": row.deployment,
            "pod": row.pod,
            "node": row.node,
            "window_end": row.window_end,
            "score": round(step.score, 6),
            "issue": step.issue.kind,
            "severity": step.issue.severity,
            "critical": step.issue.severity == "critical",
            "evidence": evidence,
            "model_version": self.model_version,
        }
