"""Kubeconfig files that point kubectl and the Kubernetes clients at the simulated cluster."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import yaml


def kubeconfig(
    server_url: str,
    token: str | None = None,
    context: str = "local-gke",
    namespace: str = "default",
    ca_pem: bytes | None = None,
) -> dict[str, Any]:
    """The kubeconfig document: one cluster, one user (a static bearer token), one context."""
    cluster: dict[str, Any] = {"server": server_url}
    if ca_pem is not None:
        cluster["certificate-authority-data"] = base64.b64encode(ca_pem).decode()
    user: dict[str, Any] = {"token": token} if token else {"token": "local-gke-anonymous"}
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": context, "cluster": cluster}],
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
    ca_pem: bytes | None = None,
) -> Path:
    """Write a kubeconfig for `server_url` to `path` (mode 0600: it may hold a token).

    For an HTTPS server (`ApiServer(..., tls=True)` or with RBAC) pass `ca_pem=server.ca_pem`.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    document = kubeconfig(server_url, token, context, namespace, ca_pem)
    target.write_text(yaml.safe_dump(document, sort_keys=False))
    target.chmod(0o600)
    return target
