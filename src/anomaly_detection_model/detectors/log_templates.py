"""Catalogue entries for the log detectors of `anomaly_detection_model.logs` (kind "logs")."""

from __future__ import annotations

from typing import Any

from anomaly_detection_model.detectors.catalogue import CatalogueEntry
from anomaly_detection_model.logs.detector import NewTemplate, TemplateAnomaly


def log_sample(n: int, seed: int) -> list[Any]:
    from anomaly_detection_model.logs.sample import generate

    lines = generate(lines=max(n, 1000), incidents=max(n // 500, 2), seed=seed)
    return [line.content for line in lines[:n]]


def missing_line(x: Any) -> Any:
    return None


CATALOGUE_ENTRIES = (
    CatalogueEntry(
        "template_anomaly",
        "logs",
        TemplateAnomaly,
        sample=log_sample,
        missing=missing_line,
        threshold=0.5,
        description="Drain templates: new, rare (error-like weighted up) and bursting templates",
    ),
    CatalogueEntry(
        "new_template",
        "logs",
        NewTemplate,
        sample=log_sample,
        missing=missing_line,
        threshold=0.5,
        description="Baseline: alarm on a Drain template never seen before",
    ),
)
