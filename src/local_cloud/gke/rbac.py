"""Optional authentication and authorisation for the simulated API server.

Bearer tokens map to users; Role/ClusterRole rules bound to those users say what they may do,
so the healing service can be tested with the least privilege it will get on GKE. Build a
policy from the same RBAC manifests that are deployed (`Rbac.from_manifests`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

Obj = dict[str, Any]


@dataclass(frozen=True)
class PolicyRule:
    """One RBAC rule: `*` matches everything, resources may name subresources (`pods/log`)."""

    verbs: tuple[str, ...]
    api_groups: tuple[str, ...] = ("",)
    resources: tuple[str, ...] = ()
    resource_names: tuple[str, ...] = ()
    non_resource_urls: tuple[str, ...] = ()

    def allows(self, verb: str, group: str, resource: str, name: str) -> bool:
        if "*" not in self.verbs and verb not in self.verbs:
            return False
        if "*" not in self.api_groups and group not in self.api_groups:
            return False
        base = resource.split("/", 1)[0]
        if not any(r in ("*", resource) or r == f"{base}/*" for r in self.resources):
            return False
        return not self.resource_names or name in self.resource_names

    @classmethod
    def from_dict(cls, rule: Obj) -> PolicyRule:
        return cls(
            verbs=tuple(rule.get("verbs") or ()),
            api_groups=tuple(rule.get("apiGroups") or ()),
            resources=tuple(rule.get("resources") or ()),
            resource_names=tuple(rule.get("resourceNames") or ()),
            non_resource_urls=tuple(rule.get("nonResourceURLs") or ()),
        )


@dataclass(frozen=True)
class Grant:
    """Rules granted to a user in one namespace, or everywhere (`namespace=None`)."""

    rules: tuple[PolicyRule, ...]
    namespace: str | None = None


@dataclass
class Rbac:
    """Tokens → users, users → grants. Users named `system:masters` may do anything."""

    tokens: dict[str, str]
    grants: dict[str, list[Grant]] = field(default_factory=dict)
    superusers: set[str] = field(default_factory=set)

    def authenticate(self, token: str | None) -> str | None:
        """The user a bearer token belongs to, or None when it is unknown."""
        if token is None:
            return None
        return self.tokens.get(token)

    def allow(self, user: str, rules: Iterable[PolicyRule], namespace: str | None = None) -> None:
        self.grants.setdefault(user, []).append(Grant(tuple(rules), namespace))

    def authorize(
        self, user: str, verb: str, group: str, resource: str, namespace: str | None, name: str = ""
    ) -> bool:
        if user in self.superusers:
            return True
        for grant in self.grants.get(user, []):
            if grant.namespace is not None and grant.namespace != namespace:
                continue
            if any(rule.allows(verb, group, resource, name) for rule in grant.rules):
                return True
        return False

    @classmethod
    def from_manifests(cls, objects: Iterable[Obj], tokens: dict[str, str]) -> Rbac:
        """Build from Role, ClusterRole, RoleBinding and ClusterRoleBinding objects.

        `tokens` maps a bearer token to a user name; service accounts are named
        `system:serviceaccount:<namespace>:<name>`, as the real authenticator names them.
        """
        docs = [o for o in objects if isinstance(o, dict)]
        roles: dict[tuple[str, str | None], list[PolicyRule]] = {}
        for doc in docs:
            kind, meta = doc.get("kind"), doc.get("metadata") or {}
            if kind in ("Role", "ClusterRole"):
                scope = meta.get("namespace") if kind == "Role" else None
                key = (f"{kind}:{meta.get('name')}", scope)
                roles[key] = [PolicyRule.from_dict(r) for r in doc.get("rules") or []]
        rbac = cls(tokens=dict(tokens))
        for doc in docs:
            kind, meta = doc.get("kind"), doc.get("metadata") or {}
            if kind not in ("RoleBinding", "ClusterRoleBinding"):
                continue
            ref = doc.get("roleRef") or {}
            namespace = meta.get("namespace") if kind == "RoleBinding" else None
            role_scope = namespace if ref.get("kind") == "Role" else None
            rules = roles.get((f"{ref.get('kind')}:{ref.get('name')}", role_scope), [])
            for subject in doc.get("subjects") or []:
                if subject.get("kind") == "ServiceAccount":
                    user = f"system:serviceaccount:{subject.get('namespace') or namespace}:{subject.get('name')}"
                else:
                    user = str(subject.get("name"))
                rbac.allow(user, rules, namespace)
        return rbac
