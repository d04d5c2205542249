"""`/version`, aggregated discovery (`apidiscovery.k8s.io/v2`) and legacy discovery documents.

kubectl reads aggregated discovery only when it comes back with the aggregated content type,
and `kubectl drain` and the Python DynamicClient still read the legacy per-group lists.
"""

from __future__ import annotations

from typing import Any

from local_cloud.gke.api.resources import GROUPS, RESOURCES, ResourceType, in_group_version

Obj = dict[str, Any]

# The machine's kubectl dispatcher runs the kubectl matching the server's minor version; 1.32
# exists there and in kubernetes-validate's schemas (see shared notes, section 3.1).
VERSION: Obj = {
    "major": "1",
    "minor": "32",
    "gitVersion": "v1.32.4-gke.1106006",
    "gitCommit": "1c9ad8a4f2d8b2a10e6a3d5b4c9e7f1a2b3c4d5e",
    "gitTreeState": "clean",
    "buildDate": "2025-04-09T09:12:33Z",
    "goVersion": "go1.23.6 X:boringcrypto",
    "compiler": "gc",
    "platform": "linux/amd64",
}

AGGREGATED_V2 = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
AGGREGATED_V2BETA1 = "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"


def aggregated_type(accept: str) -> str | None:
    """The aggregated discovery content type the client accepts, preferring v2; else None."""
    offers = [part.replace(" ", "") for part in accept.split(",")]
    for wanted, content_type in (("v=v2;", AGGREGATED_V2), ("v=v2beta1;", AGGREGATED_V2BETA1)):
        for offer in offers:
            if (
                "as=APIGroupDiscoveryList" in offer
                and "g=apidiscovery.k8s.io" in offer
                and (wanted in offer + ";")
            ):
                return content_type
    return None


def _verbs(resource: ResourceType) -> list[str]:
    return sorted(resource.verbs)


def _aggregated_resource(resource: ResourceType) -> Obj:
    entry: Obj = {
        "resource": resource.plural,
        "responseKind": {
            "group": resource.group,
            "version": resource.version,
            "kind": resource.kind,
        },
        "scope": "Namespaced" if resource.namespaced else "Cluster",
        "singularResource": resource.singular_name,
        "verbs": _verbs(resource),
    }
    if resource.short_names:
        entry["shortNames"] = list(resource.short_names)
    if resource.categories:
        entry["categories"] = list(resource.categories)
    if resource.subresources:
        entry["subresources"] = [
            {
                "subresource": sub.name,
                "responseKind": {
                    "group": sub.group,
                    "version": sub.version,
                    "kind": sub.kind or resource.kind,
                },
                "verbs": sorted(sub.verbs),
            }
            for sub in resource.subresources
        ]
    return entry


def _group_item(group: str, version: str) -> Obj:
    return {
        "metadata": {"name": group, "creationTimestamp": None},
        "versions": [
            {
                "version": version,
                "resources": [_aggregated_resource(r) for r in in_group_version(group, version)],
                "freshness": "Current",
            }
        ],
    }


def aggregated(core: bool, content_type: str) -> Obj:
    """The APIGroupDiscoveryList of `/api` (core) or `/apis` (every named group)."""
    api_version = "apidiscovery.k8s.io/" + ("v2" if content_type == AGGREGATED_V2 else "v2beta1")
    items = [_group_item("", "v1")] if core else [_group_item(g, v) for g, v in GROUPS.items()]
    return {
        "kind": "APIGroupDiscoveryList",
        "apiVersion": api_version,
        "metadata": {},
        "items": items,
    }


def api_versions(server_address: str) -> Obj:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [
            {"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}
        ],
    }


def _group(group: str, version: str) -> Obj:
    gv = {"groupVersion": f"{group}/{version}", "version": version}
    return {"name": group, "versions": [gv], "preferredVersion": gv}


def api_group_list() -> Obj:
    return {
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": [_group(g, v) for g, v in GROUPS.items()],
    }


def api_group(group: str) -> Obj | None:
    if group not in GROUPS:
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", **_group(group, GROUPS[group])}


def resource_list(group: str, version: str) -> Obj | None:
    """The legacy APIResourceList of one group-version, subresources included."""
    resources = in_group_version(group, version)
    if not resources:
        return None
    entries: list[Obj] = []
    for resource in resources:
        entry: Obj = {
            "name": resource.plural,
            "singularName": resource.singular_name,
            "namespaced": resource.namespaced,
            "kind": resource.kind,
            "verbs": _verbs(resource),
        }
        if resource.short_names:
            entry["shortNames"] = list(resource.short_names)
        if resource.categories:
            entry["categories"] = list(resource.categories)
        entries.append(entry)
        for sub in resource.subresources:
            sub_entry: Obj = {
                "name": f"{resource.plural}/{sub.name}",
                "singularName": "",
                "namespaced": resource.namespaced,
                "kind": sub.kind or resource.kind,
                "verbs": sorted(sub.verbs),
            }
            if (sub.group, sub.version) != (group, version):
                sub_entry["group"] = sub.group
                sub_entry["version"] = sub.version
            entries.append(sub_entry)
    gv = f"{group}/{version}" if group else version
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": entries}


def all_group_versions() -> list[tuple[str, str]]:
    return [("", "v1"), *GROUPS.items()]


__all__ = ["RESOURCES", "VERSION"]
