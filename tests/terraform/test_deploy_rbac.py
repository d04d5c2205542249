"""The healing service's Kubernetes permissions: least privilege, identical in YAML and Terraform."""

from __future__ import annotations

from typing import Any

import kubernetes_validate
import yaml
from terraform_layout import DEPLOY, Module, unquote

SCHEMA_VERSION = "1.32"
# What the action catalogue and diagnosis need (issue 7 / the healing service's catalogue).
ALLOWED: dict[tuple[str, str], set[str]] = {
    ("", "pods"): {"get", "list", "watch", "delete"},
    ("", "pods/log"): {"get", "list", "watch"},
    ("", "pods/eviction"): {"create"},
    ("", "events"): {"get", "list", "watch"},
    ("", "nodes"): {"get", "list", "watch", "patch"},
    ("apps", "deployments"): {"get", "list", "watch", "patch"},
    ("apps", "deployments/scale"): {"update", "patch"},
    ("apps", "replicasets"): {"get", "list", "watch"},
    ("policy", "poddisruptionbudgets"): {"get", "list", "watch"},
    ("autoscaling", "horizontalpodautoscalers"): {"get", "list", "watch"},
    ("metrics.k8s.io", "pods"): {"get", "list"},  # verifying a scale-out by the pods' CPU
}
# Without these the catalogue cannot work at all.
NEEDED: dict[tuple[str, str], set[str]] = {
    ("", "pods"): {"get", "list", "delete"},
    ("", "pods/eviction"): {"create"},
    ("", "nodes"): {"get", "patch"},
    ("apps", "deployments"): {"get", "patch"},
    ("apps", "deployments/scale"): {"patch"},
    ("apps", "replicasets"): {"list"},
}


def _grants(rules: list[dict[str, Any]]) -> dict[tuple[str, str], set[str]]:
    grants: dict[tuple[str, str], set[str]] = {}
    for rule in rules:
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                grants.setdefault((group, resource), set()).update(rule["verbs"])
    return grants


def _documents() -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all((DEPLOY / "kubernetes" / "rbac.yaml").read_text()) if d]


def _yaml_grants() -> dict[tuple[str, str], set[str]]:
    (role,) = [d for d in _documents() if d["kind"] == "ClusterRole"]
    return _grants(role["rules"])


def _terraform_grants(module: Module) -> dict[tuple[str, str], set[str]]:
    rules = [
        {
            "apiGroups": [unquote(g) for g in rule["api_groups"]],
            "resources": [unquote(r) for r in rule["resources"]],
            "verbs": [unquote(v) for v in rule["verbs"]],
        }
        for rule in module.locals["rules"]
    ]
    assert rules
    return _grants(rules)


def test_yaml_grants_only_what_the_catalogue_needs() -> None:
    grants = _yaml_grants()
    for key, verbs in grants.items():
        assert "*" not in key[0] and "*" not in key[1] and "*" not in verbs, "no wildcards"
        assert key in ALLOWED, f"{key} is not needed"
        assert verbs <= ALLOWED[key], f"{key}: {sorted(verbs - ALLOWED[key])} not needed"
    for key, verbs in NEEDED.items():
        assert verbs <= grants.get(key, set()), (
            f"{key}: missing {sorted(verbs - grants.get(key, set()))}"
        )


def test_terraform_and_yaml_grant_the_same(modules: dict[str, Module]) -> None:
    assert _terraform_grants(modules["gke_access"]) == _yaml_grants()


def test_manifests_are_valid_kubernetes_objects() -> None:
    documents = _documents()
    assert [d["kind"] for d in documents] == [
        "Namespace",
        "ServiceAccount",
        "ClusterRole",
        "ClusterRoleBinding",
    ]
    for document in documents:
        kubernetes_validate.validate(document, SCHEMA_VERSION, strict=True)
    binding = documents[3]
    assert binding["roleRef"]["name"] == documents[2]["metadata"]["name"]
    account = documents[1]["metadata"]
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": account["name"], "namespace": account["namespace"]}
    ]


def test_terraform_binds_the_google_account_as_a_user(modules: dict[str, Module]) -> None:
    (binding,) = [
        r for r in modules["gke_access"].resources if r.type == "kubernetes_cluster_role_binding_v1"
    ]
    subject = binding.body["subject"][0]
    assert subject["kind"] == '"User"' or subject["kind"] == "User"
    assert subject["name"] == "${var.healing_service_account}"
    roles = [r.address for r in modules["gke_access"].resources]
    assert "google_project_iam_member.cluster_viewer" in roles
    assert "roles/container.clusterViewer" in modules["gke_access"].text
