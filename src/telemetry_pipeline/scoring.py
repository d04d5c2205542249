"""The scoring step: feature rows → verdicts (contracts §3), through a scorer given from outside.

`RowScorer` is our boundary (tests pass a fake); `RegistryScorer` loads the model's scorer from
a registry once and reloads it when a newer version is registered, checking at most every
`check_every` seconds so a busy pipeline does not read the registry per window.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

Verdict = dict[str, Any]


class RowScorer(Protocol):
    """Anything that scores contracts §2 rows into contracts §3 verdicts, one per row, in order."""

    def score(self, rows: Sequence[Mapping[str, Any]]) -> list[Verdict]: ...


def latest_version(registry: str) -> str | None:
    """The version `latest` names in a folder registry (`<root>/LATEST`), None elsewhere."""
    if registry.startswith("gs://"):
        return None
    try:
        return (Path(registry) / "LATEST").read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def load_model_scorer(registry: str, version: str = "latest") -> RowScorer:
    """The model's own scorer (the one import of another unit this package makes)."""
    from anomaly_detection_model.scoring import Scorer

    return Scorer.load(registry, version)


class RegistryScorer:
    """The latest registered scorer, reloaded when the registry names a newer version.

    Per-entity state lives in the loaded scorer, so a reload starts the new model fresh; that
    is the price of switching models, paid once per registration.
    """

    def __init__(
        self,
        registry: str,
        *,
        check_every: float = 30.0,
        loader: Callable[[str, str], RowScorer] = load_model_scorer,
        probe: Callable[[str], str | None] = latest_version,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.registry = registry
        self.check_every = check_every
        self._loader = loader
        self._probe = probe
        self._clock = clock
        self.version = probe(registry)
        self._scorer = loader(registry, self.version or "latest")
        self._checked = clock()
        self.reloads = 0

    def _maybe_reload(self) -> None:
        now = self._clock()
        if now - self._checked < self.check_every:
            return
        self._checked = now
        named = self._probe(self.registry)
        if named is not None and named != self.version:
            self._scorer = self._loader(self.registry, named)
            self.version = named
            self.reloads += 1

    def score(self, rows: Sequence[Mapping[str, Any]]) -> list[Verdict]:
        self._maybe_reload()
        return self._scorer.score(rows)
