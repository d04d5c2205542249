"""Upload a registered artefact version to the Vertex AI Model Registry.

The artefact itself stays in the gs:// registry (Vertex AI stores a pointer, the artefact
URI); the upload records the version, its metrics as labels and a serving container that
can load it.
"""

from __future__ import annotations

import re
from typing import Any

from anomaly_detection_model.registry import Registry

DEFAULT_SERVING_IMAGE = "europe-docker.pkg.dev/gke-heal/images/training:latest"


def upload(
    registry_uri: str,
    version: str,
    *,
    project: str,
    region: str,
    display_name: str = "gke-heal-entity-model",
    serving_image: str = DEFAULT_SERVING_IMAGE,
) -> Any:
    """Register `version` of the gs:// registry in Vertex AI; returns the Vertex model."""
    if not registry_uri.startswith("gs://"):
        raise ValueError("--vertex-project: the Vertex AI upload needs a gs:// registry in --out")
    from google.cloud import aiplatform

    metadata = Registry(registry_uri).metadata(version)
    labels = {"version": version.lower(), "feature_schema": _label(metadata["feature_schema"])}
    aiplatform.init(project=project, location=region)
    return aiplatform.Model.upload(
        display_name=display_name,
        artifact_uri=f"{registry_uri.rstrip('/')}/versions/{version}",
        serving_container_image_uri=serving_image,
        labels=labels,
        description=f"gke-heal entity model {version}",
    )


def _label(value: str) -> str:
    return re.sub(r"[^a-z0-9_-]", "-", value.lower())[:63]
