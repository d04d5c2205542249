"""Fault injection for the simulator: a catalogue of declarative stages keyed by annotation."""

from __future__ import annotations

from local_cloud.gke.faults.catalogue import (
    BAD_IMAGE_EFFECT,
    CATALOGUE,
    CRASHING_IMAGE_EFFECT,
    FAULTS,
    is_bad_image,
    is_crashing_image,
)
from local_cloud.gke.faults.stage import (
    FAULT_ANNOTATION,
    NEUTRAL,
    PARAMS_ANNOTATION,
    ActiveFault,
    Effect,
    FaultStage,
    LogTemplate,
    read_params,
)

__all__ = [
    "BAD_IMAGE_EFFECT",
    "CATALOGUE",
    "CRASHING_IMAGE_EFFECT",
    "FAULTS",
    "FAULT_ANNOTATION",
    "NEUTRAL",
    "PARAMS_ANNOTATION",
    "ActiveFault",
    "Effect",
    "FaultStage",
    "LogTemplate",
    "active_fault",
    "is_bad_image",
    "is_crashing_image",
    "read_params",
]


def active_fault(obj: dict[str, object], target: str) -> ActiveFault | None:
    """The fault annotated on `obj` (a Deployment or Node), if it names a known kind for it."""
    meta = obj.get("metadata")
    annotations = meta.get("annotations") if isinstance(meta, dict) else None
    if not isinstance(annotations, dict):
        return None
    stage = FAULTS.get(str(annotations.get(FAULT_ANNOTATION, "")))
    if stage is None or stage.target != target:
        return None
    return ActiveFault(stage, read_params(annotations, stage.default_params))
