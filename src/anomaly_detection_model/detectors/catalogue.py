"""The catalogue of detectors: a name, a seeded factory and sample inputs for each.

Every module in `anomaly_detection_model.detectors` may define `CATALOGUE_ENTRIES`, a tuple
of `CatalogueEntry`; `entries()` finds them all, so a new detector is picked up by the
evaluation commands and by the generated check suite without editing this file.
"""

from __future__ import annotations

import importlib
import math
import pkgutil
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from anomaly_detection_model.base import Detector


def univariate_sample(n: int, seed: int) -> list[Any]:
    """A daily-seasonal noisy series with a few spikes and a level shift."""
    rng = random.Random(seed)
    out: list[Any] = []
    for i in range(n):
        value = 10.0 + 3.0 * math.sin(2 * math.pi * i / 288) + rng.gauss(0.0, 0.5)
        if i > n // 2:
            value += 4.0
        if rng.random() < 0.003:
            value += rng.choice((-1.0, 1.0)) * 15.0
        out.append(value)
    return out


def blank_out(x: Any) -> Any:
    """The same observation with its values missing (NaN for a number, None in a mapping)."""
    if isinstance(x, Mapping):
        return dict.fromkeys(x)
    if isinstance(x, float | int):
        return math.nan
    return None


@dataclass(frozen=True)
class CatalogueEntry:
    """How to build a detector and feed it: what the evaluation commands and checks need.

    `make()` returns a fresh detector with a fixed seed. `sample(n, seed)` returns `n`
    observations of the kind the detector reads. `missing(x)` returns `x` with its values
    missing. `threshold` is the detector's own fixed decision threshold on its [0, 1] score.
    """

    name: str
    kind: str  # "univariate", "multivariate" or "logs"
    make: Callable[[], Detector[Any]]
    sample: Callable[[int, int], list[Any]] = univariate_sample
    missing: Callable[[Any], Any] = blank_out
    threshold: float = 0.5
    description: str = ""


def entries(kind: str | None = None) -> dict[str, CatalogueEntry]:
    """Every catalogued detector (of one kind, if given), by name."""
    import anomaly_detection_model.detectors as package

    found: dict[str, CatalogueEntry] = {}
    for module_info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{package.__name__}.{module_info.name}")
        for entry in getattr(module, "CATALOGUE_ENTRIES", ()):
            if entry.name in found:
                raise ValueError(f"two detectors are catalogued as {entry.name!r}")
            if kind is None or entry.kind == kind:
                found[entry.name] = entry
    return found


def get(name: str, kind: str | None = None) -> CatalogueEntry:
    """One catalogued detector; KeyError naming the known ones when `name` is unknown."""
    known = entries(kind)
    if name not in known:
        raise KeyError(f"unknown detector {name!r}; known: {', '.join(sorted(known))}")
    return known[name]
