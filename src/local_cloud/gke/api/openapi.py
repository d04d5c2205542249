"""`/openapi/v3`: the index and one document per group-version, built from the JSON schemas.

kubectl `create -f` / `apply -f` with the default `--validate=strict` first checks that the
server's OpenAPI v3 document has a path for the object's kind whose PATCH takes
`fieldValidation`; then it leaves validation to the server (see shared notes, §3.2).
"""

from __future__ import annotations

import functools
import hashlib
import json
from typing import Any

from local_cloud.gke.api import schemas
from local_cloud.gke.api.discovery import VERSION, all_group_versions
from local_cloud.gke.api.resources import in_group_version

Obj = dict[str, Any]

_META = "io.k8s.apimachinery.pkg.apis.meta.v1."
_QUERY = ("fieldValidation", "dryRun", "fieldManager", "pretty")


def _convert(node: Any) -> Any:
    """JSON-schema (2020-12) to OpenAPI 3.0: component refs, single types, int-or-string."""
    if isinstance(node, list):
        return [_convert(v) for v in node]
    if not isinstance(node, dict):
        return node
    one_of = node.get("oneOf")
    if isinstance(one_of, list) and {json.dumps(o.get("type")) for o in one_of} == {
        json.dumps(["string", "null"]),
        json.dumps(["integer", "null"]),
    }:
        return {k: v for k, v in node.items() if k != "oneOf"} | {
            "x-kubernetes-int-or-string": True
        }
    out: Obj = {}
    for key, value in node.items():
        if key == "$ref" and isinstance(value, str):
            out[key] = "#/components/schemas/" + value.rsplit("/", 1)[-1]
        elif key == "type" and isinstance(value, list):
            types = [t for t in value if t != "null"]
            out[key] = types[0] if types else "object"
        elif key == "additionalProperties" and value is False:
            continue
        else:
            out[key] = _convert(value)
    return out


def _refs(node: Any, found: set[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            name = ref.rsplit("/", 1)[-1]
            if name not in found:
                found.add(name)
                _refs(schemas.definitions().get(name), found)
        for value in node.values():
            _refs(value, found)
    elif isinstance(node, list):
        for value in node:
            _refs(value, found)


def _operation(action: str, kind: Obj, schema_ref: str, op_id: str) -> Obj:
    operation: Obj = {
        "operationId": op_id,
        "parameters": [
            {"name": name, "in": "query", "schema": {"type": "string", "uniqueItems": True}}
            for name in _QUERY
        ],
        "responses": {
            "200": {"content": {"application/json": {"schema": {"$ref": schema_ref}}}},
            "401": {"description": "Unauthorized"},
        },
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": kind,
    }
    if action in ("patch", "put", "post"):
        types = (
            [
                "application/json-patch+json",
                "application/merge-patch+json",
                "application/strategic-merge-patch+json",
                "application/apply-patch+yaml",
            ]
            if action == "patch"
            else ["application/json"]
        )
        operation["requestBody"] = {"content": {t: {"schema": {"$ref": schema_ref}} for t in types}}
    return operation


@functools.cache
def document(group: str, version: str) -> bytes:
    paths: Obj = {}
    wanted: set[str] = {_META + n for n in ("DeleteOptions", "Status", "APIResourceList")}
    prefix = f"/apis/{group}/{version}" if group else f"/api/{version}"
    for resource in in_group_version(group, version):
        definition = schemas.definition_name(resource.api_version, resource.kind)
        if definition is None or not resource.stored:
            continue
        wanted.add(definition)
        list_definition = schemas.definition_name(resource.api_version, resource.kind + "List")
        if list_definition:
            wanted.add(list_definition)
        ref = "#/components/schemas/" + definition
        gvk = {"group": group, "version": version, "kind": resource.kind}
        base = (
            f"{prefix}/namespaces/{{namespace}}/{resource.plural}"
            if resource.namespaced
            else f"{prefix}/{resource.plural}"
        )
        kind = resource.kind
        paths[base] = {
            "get": _operation(
                "list",
                gvk,
                "#/components/schemas/" + (list_definition or definition),
                f"list{kind}",
            ),
            "post": _operation("post", gvk, ref, f"create{kind}"),
        }
        paths[base + "/{name}"] = {
            "get": _operation("get", gvk, ref, f"read{kind}"),
            "put": _operation("put", gvk, ref, f"replace{kind}"),
            "patch": _operation("patch", gvk, ref, f"patch{kind}"),
            "delete": _operation("delete", gvk, ref, f"delete{kind}"),
        }
    closure: set[str] = set()
    for name in list(wanted):
        closure.add(name)
        _refs(schemas.definitions().get(name), closure)
    components = {
        name: _convert(schemas.definitions()[name])
        for name in sorted(closure)
        if name in schemas.definitions()
    }
    doc = {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": VERSION["gitVersion"]},
        "paths": paths,
        "components": {"schemas": components},
    }
    return json.dumps(doc, separators=(",", ":")).encode()


@functools.cache
def index() -> bytes:
    paths: Obj = {}
    for group, version in all_group_versions():
        key = f"apis/{group}/{version}" if group else f"api/{version}"
        digest = hashlib.sha512(document(group, version)).hexdigest()[:64].upper()
        paths[key] = {"serverRelativeURL": f"/openapi/v3/{key}?hash={digest}"}
    return json.dumps({"paths": paths}).encode()


def group_version_document(path: str) -> bytes | None:
    """The document for `api/v1` or `apis/<group>/<version>`, or None."""
    parts = path.strip("/").split("/")
    if parts[:1] == ["api"] and len(parts) == 2:
        return document("", parts[1])
    if parts[:1] == ["apis"] and len(parts) == 3 and (parts[1], parts[2]) in all_group_versions():
        return document(parts[1], parts[2])
    return None
