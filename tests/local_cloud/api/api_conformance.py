"""Helpers shared by the API conformance tests: the running simulator, schema validation of
what it serves, a Deployment manifest, polling, and the tool-missing policy of tests/conftest.py.

(Not in conftest.py: test modules import these by name, and every tests/ folder has a conftest.)
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import kubernetes_validate
import pytest
from api_fake_cluster import FakeCluster

from local_cloud.gke.api import ApiServer
from local_cloud.gke.store import ObjectStore

SCHEMA_VERSION = "1.32"


@dataclass
class Simulated:
    """A running API server over a fake cluster, with a kubeconfig and an HTTP client."""

    store: ObjectStore
    cluster: FakeCluster
    server: ApiServer
    url: str
    kubeconfig: Path
    http: httpx.Client
    served: list[dict[str, Any]]

    def get_json(self, path: str, **params: str) -> Any:
        response = self.http.get(path, params=params)
        response.raise_for_status()
        body = response.json()
        self.served.append(body)
        return body


def missing_tool(name: str, reason: str) -> None:
    """As `require_tool` in tests/conftest.py: skip, or fail where GKE_HEAL_REQUIRE_TOOLS=1."""
    message = f"{name} is not available: {reason}"
    if os.environ.get("GKE_HEAL_REQUIRE_TOOLS") == "1":
        pytest.fail(f"GKE_HEAL_REQUIRE_TOOLS=1 and {message}")
    pytest.skip(message)


KubectlRun = Callable[..., subprocess.CompletedProcess[str]]


def validate_served(obj: dict[str, Any]) -> int:
    """Validate an object, or each item of a list, against the Kubernetes schemas; count them."""
    if obj.get("kind", "").endswith("List") and "items" in obj:
        for item in obj["items"]:
            item = {"apiVersion": obj["apiVersion"], "kind": obj["kind"][:-4], **item}
            kubernetes_validate.validate(item, SCHEMA_VERSION, strict=True)
        return len(obj["items"])
    if (
        obj.get("kind") in ("Status", "Table", "Scale", "PodMetrics", "NodeMetrics")
        or "kind" not in obj
    ):
        return 0
    kubernetes_validate.validate(obj, SCHEMA_VERSION, strict=True)
    return 1


STORED_PATHS = (
    "/api/v1/namespaces",
    "/api/v1/nodes",
    "/api/v1/pods",
    "/api/v1/services",
    "/api/v1/events",
    "/api/v1/configmaps",
    "/api/v1/secrets",
    "/api/v1/endpoints",
    "/apis/apps/v1/deployments",
    "/apis/apps/v1/replicasets",
    "/apis/policy/v1/poddisruptionbudgets",
    "/apis/autoscaling/v2/horizontalpodautoscalers",
)


def validate_everything(sim: Simulated) -> int:
    """Schema-validate every object the server serves now plus every response kept in `served`."""
    count = sum(validate_served(sim.get_json(path)) for path in STORED_PATHS)
    return count + sum(validate_served(obj) for obj in sim.served)


def deployment(name: str, replicas: int = 2, image: str = "nginx:1.27") -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "containers": [
                        {
                            "name": name,
                            "image": image,
                            "ports": [{"containerPort": 8080, "name": "http"}],
                            "env": [{"name": "MODE", "value": "test"}],
                            "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}},
                        }
                    ]
                },
            },
        },
    }


def dumps(obj: Any) -> str:
    return json.dumps(obj)


def wait_for(condition: Callable[[], Any], timeout: float = 15.0, what: str = "condition") -> Any:
    """Poll `condition` until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def running_pods(store: ObjectStore, app: str, namespace: str = "default") -> list[dict[str, Any]]:
    pods, _ = store.list(
        "pods", namespace, lambda p: p["metadata"].get("labels", {}).get("app") == app
    )
    return [
        p
        for p in pods
        if p["status"].get("phase") == "Running" and not p["metadata"].get("deletionTimestamp")
    ]
