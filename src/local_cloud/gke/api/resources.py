"""The resource types the simulated API server serves: group, version, kind, scope and verbs.

One table drives discovery (aggregated and legacy), routing, list kinds, OpenAPI documents and
RBAC resource names, so adding a resource type is one entry here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
READ_VERBS = ("get", "list")


@dataclass(frozen=True)
class Subresource:
    """A subresource such as `pods/log`: what it returns and which verbs it takes."""

    name: str
    kind: str
    group: str = ""
    version: str = "v1"
    verbs: tuple[str, ...] = ("get", "patch", "update")


@dataclass(frozen=True)
class ResourceType:
    """One REST resource (`deployments` in `apps/v1`)."""

    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool = True
    short_names: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ALL_VERBS
    subresources: tuple[Subresource, ...] = ()
    categories: tuple[str, ...] = ()
    stored: bool = True  # False: computed on read (metrics.k8s.io)
    singular: str = field(default="")

    @property
    def group_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def api_version(self) -> str:
        return self.group_version

    @property
    def qualified(self) -> str:
        """`deployments.apps`, as real servers name resources in messages."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def singular_name(self) -> str:
        return self.singular or self.kind.lower()

    def subresource(self, name: str) -> Subresource | None:
        return next((s for s in self.subresources if s.name == name), None)


_SCALE = Subresource("scale", "Scale", "autoscaling", "v1")


def _status(kind: str, group: str = "", version: str = "v1") -> Subresource:
    return Subresource("status", kind, group, version)


RESOURCES: tuple[ResourceType, ...] = (
    ResourceType(
        "",
        "v1",
        "namespaces",
        "Namespace",
        namespaced=False,
        short_names=("ns",),
        verbs=("create", "delete", "get", "list", "patch", "update", "watch"),
        subresources=(_status("Namespace"),),
    ),
    ResourceType(
        "",
        "v1",
        "nodes",
        "Node",
        namespaced=False,
        short_names=("no",),
        subresources=(_status("Node"),),
    ),
    ResourceType(
        "",
        "v1",
        "pods",
        "Pod",
        short_names=("po",),
        categories=("all",),
        subresources=(
            _status("Pod"),
            Subresource("log", "Pod", verbs=("get",)),
            Subresource("eviction", "Eviction", "policy", "v1", verbs=("create",)),
            Subresource("binding", "Binding", verbs=("create",)),
        ),
    ),
    ResourceType(
        "",
        "v1",
        "services",
        "Service",
        short_names=("svc",),
        categories=("all",),
        verbs=("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"),
        subresources=(_status("Service"),),
    ),
    ResourceType("", "v1", "events", "Event", short_names=("ev",)),
    ResourceType("", "v1", "configmaps", "ConfigMap", short_names=("cm",)),
    ResourceType("", "v1", "secrets", "Secret"),
    ResourceType("", "v1", "endpoints", "Endpoints", short_names=("ep",), singular="endpoints"),
    ResourceType("", "v1", "serviceaccounts", "ServiceAccount", short_names=("sa",)),
    ResourceType(
        "apps",
        "v1",
        "deployments",
        "Deployment",
        short_names=("deploy",),
        categories=("all",),
        subresources=(_status("Deployment", "apps"), _SCALE),
    ),
    ResourceType(
        "apps",
        "v1",
        "replicasets",
        "ReplicaSet",
        short_names=("rs",),
        categories=("all",),
        subresources=(_status("ReplicaSet", "apps"), _SCALE),
    ),
    ResourceType(
        "apps",
        "v1",
        "daemonsets",
        "DaemonSet",
        short_names=("ds",),
        categories=("all",),
        subresources=(_status("DaemonSet", "apps"),),
    ),
    ResourceType(
        "apps",
        "v1",
        "statefulsets",
        "StatefulSet",
        short_names=("sts",),
        categories=("all",),
        subresources=(_status("StatefulSet", "apps"), _SCALE),
    ),
    ResourceType("apps", "v1", "controllerrevisions", "ControllerRevision"),
    ResourceType(
        "policy",
        "v1",
        "poddisruptionbudgets",
        "PodDisruptionBudget",
        short_names=("pdb",),
        subresources=(_status("PodDisruptionBudget", "policy"),),
    ),
    ResourceType(
        "autoscaling",
        "v2",
        "horizontalpodautoscalers",
        "HorizontalPodAutoscaler",
        short_names=("hpa",),
        categories=("all",),
        subresources=(_status("HorizontalPodAutoscaler", "autoscaling", "v2"),),
    ),
    ResourceType("coordination.k8s.io", "v1", "leases", "Lease"),
    ResourceType(
        "authorization.k8s.io",
        "v1",
        "selfsubjectaccessreviews",
        "SelfSubjectAccessReview",
        namespaced=False,
        verbs=("create",),
        stored=False,
    ),
    ResourceType(
        "metrics.k8s.io",
        "v1beta1",
        "pods",
        "PodMetrics",
        verbs=READ_VERBS,
        stored=False,
        singular="",
    ),
    ResourceType(
        "metrics.k8s.io",
        "v1beta1",
        "nodes",
        "NodeMetrics",
        namespaced=False,
        verbs=READ_VERBS,
        stored=False,
    ),
)

# Group → preferred version, in the order discovery lists them.
GROUPS: dict[str, str] = {
    "apps": "v1",
    "policy": "v1",
    "autoscaling": "v2",
    "coordination.k8s.io": "v1",
    "authorization.k8s.io": "v1",
    "metrics.k8s.io": "v1beta1",
}


def find(group: str, version: str, plural: str) -> ResourceType | None:
    for resource in RESOURCES:
        if (resource.group, resource.version, resource.plural) == (group, version, plural):
            return resource
    return None


def by_kind(api_version: str, kind: str) -> ResourceType | None:
    for resource in RESOURCES:
        if resource.api_version == api_version and resource.kind == kind:
            return resource
    return None


def in_group_version(group: str, version: str) -> list[ResourceType]:
    return [r for r in RESOURCES if r.group == group and r.version == version]


def stored_by_plural(plural: str) -> ResourceType | None:
    """The stored resource type for a store bucket name (store keys are plurals)."""
    return next((r for r in RESOURCES if r.plural == plural and r.stored), None)
