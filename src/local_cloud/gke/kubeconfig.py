"""Kubeconfig files that point kubectl and the Kubernetes clients at the simulated cluster."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


def kubeconfig(
    server_url: str,
    token: str | None = None,
    context: str = "local-gke",
    namespace: str = "default",
) -> dict[str, Any]:
    """The kubeconfig document: one cluster, one user (a static bearer token), one context."""
    user: dict[str, Any] = {"token": token} if token else {"token": "local-gke-anonymous"}
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": context, "cluster": {"server": server_url}}],
        "users": [{"name": context, "user": user}],
        "contexts": [
            {
                "name": context,
                "context": {"cluster": context, "user": context, "namespace": namespace},
            }
        ],
        "current-context": context,
        "preferences": {},
    }


def write_kubeconfig(
    path: str | Path,
    server_url: str,
    token: str | None = None,
    context: str = "local-gke",
    namespace: str = "default",
) -> Path:
    """Write a kubeconfig for `server_url` to `path` (mode 0600, it may hold a token)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(
        yaml.safe_dump(kubeconfig(server_url, token, context, namespace), sort_keys=False)
    )
    target.chmod(0o600)
    return target
