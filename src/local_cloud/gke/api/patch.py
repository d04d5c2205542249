"""The four PATCH formats: strategic merge (schema-driven list merge keys and `$` directives),
JSON merge patch (RFC 7386), JSON patch (RFC 6902) and apply patches (treated as strategic).
"""

from __future__ import annotations

import copy
import json
from typing import Any

import yaml

from local_cloud.gke.api import schemas
from local_cloud.gke.api.status import ApiError, bad_request, unsupported_media_type

Obj = dict[str, Any]

STRATEGIC = "application/strategic-merge-patch+json"
MERGE = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
APPLY = "application/apply-patch+yaml"
PATCH_TYPES = (STRATEGIC, MERGE, JSON_PATCH, APPLY)

_DIRECTIVE_PREFIXES = ("$setElementOrder/", "$deleteFromPrimitiveList/", "$retainKeys", "$patch")


# -- JSON merge patch -----------------------------------------------------------------------
def merge_patch(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


# -- strategic merge patch ------------------------------------------------------------------
def _strategy(schema: Obj | None) -> tuple[bool, str | None]:
    """(merge the list?, merge key) from the list field's schema."""
    if schema is None:
        return False, None
    strategy = str(schema.get("x-kubernetes-patch-strategy", ""))
    return "merge" in strategy.split(","), schema.get("x-kubernetes-patch-merge-key")


def _strip(value: Any, schema: Obj | None) -> Any:
    """A new value with no original: apply it to nothing, so directives are removed."""
    if isinstance(value, dict):
        result = strategic_merge({}, value, schema)
        return result if result is not None else {}
    if isinstance(value, list):
        item = schemas.item_schema(schema)
        return [
            _strip(v, item)
            for v in value
            if not (isinstance(v, dict) and v.get("$patch") == "delete")
        ]
    return value


# Used only when the schemas are not installed: the list merge keys kubectl relies on most.
_FALLBACK_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "ports": "containerPort",
    "imagePullSecrets": "name",
    "conditions": "type",
    "ownerReferences": "uid",
    "hostAliases": "ip",
}
_FALLBACK_SETS = {"finalizers"}


def _merge_list(
    original: list[Any], patch: list[Any], schema: Obj | None, field: str = ""
) -> list[Any]:
    merge, key = _strategy(schema)
    if schema is None and not schemas.definitions():
        merge, key = field in _FALLBACK_KEYS or field in _FALLBACK_SETS, _FALLBACK_KEYS.get(field)
    item = schemas.item_schema(schema)
    if any(isinstance(v, dict) and v.get("$patch") == "replace" for v in patch):
        return [_strip(v, item) for v in patch if not (isinstance(v, dict) and "$patch" in v)]
    if not merge:
        return _strip(patch, schema)  # type: ignore[no-any-return]
    result = copy.deepcopy(original)
    if key is None:  # a merged list of primitives: union, keeping order
        for value in patch:
            if value not in result:
                result.append(value)
        return result
    for value in patch:
        if not isinstance(value, dict):
            raise bad_request(f"strategic merge patch: list item {value!r} is not an object")
        wanted = value.get(key)
        index = next(
            (i for i, v in enumerate(result) if isinstance(v, dict) and v.get(key) == wanted),
            None,
        )
        if value.get("$patch") == "delete":
            if index is not None:
                del result[index]
            continue
        if index is None:
            result.append(_strip(value, item))
        else:
            merged = strategic_merge(result[index], value, item)
            result[index] = merged if merged is not None else {}
    return result


def _order(values: list[Any], order: list[Any], key: str | None) -> list[Any]:
    def ident(value: Any) -> Any:
        return value.get(key) if key and isinstance(value, dict) else value

    position = {json.dumps(ident(v), sort_keys=True): i for i, v in enumerate(order)}
    listed = [v for v in values if json.dumps(ident(v), sort_keys=True) in position]
    rest = [v for v in values if json.dumps(ident(v), sort_keys=True) not in position]
    listed.sort(key=lambda v: position[json.dumps(ident(v), sort_keys=True)])
    return listed + rest


def strategic_merge(original: Any, patch: Any, schema: Obj | None) -> Any:
    """Apply a strategic merge patch to `original`, guided by the object's schema."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    directive = patch.get("$patch")
    if directive == "delete":
        return None
    if directive == "replace":
        return _strip({k: v for k, v in patch.items() if k != "$patch"}, schema)
    result: Obj = copy.deepcopy(original) if isinstance(original, dict) else {}
    retain = patch.get("$retainKeys")
    if isinstance(retain, list):
        result = {k: v for k, v in result.items() if k in retain or k in patch}
    for key, value in patch.items():
        if key.startswith(_DIRECTIVE_PREFIXES):
            continue
        if value is None:
            result.pop(key, None)
            continue
        sub = schemas.property_schema(schema, key)
        if isinstance(value, dict):
            merged = strategic_merge(result.get(key), value, sub)
            if merged is None:
                result.pop(key, None)
            else:
                result[key] = merged
        elif isinstance(value, list):
            current = result.get(key)
            result[key] = _merge_list(current if isinstance(current, list) else [], value, sub, key)
        else:
            result[key] = value
    for key, value in patch.items():
        if key.startswith("$deleteFromPrimitiveList/") and isinstance(value, list):
            field = key.split("/", 1)[1]
            if isinstance(result.get(field), list):
                result[field] = [v for v in result[field] if v not in value]
    for key, value in patch.items():
        if key.startswith("$setElementOrder/") and isinstance(value, list):
            field = key.split("/", 1)[1]
            if isinstance(result.get(field), list):
                _, merge_key = _strategy(schemas.property_schema(schema, field))
                result[field] = _order(result[field], value, merge_key)
    return result


# -- JSON patch -----------------------------------------------------------------------------
def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise bad_request(f"json patch: invalid path {path!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _parent(doc: Any, parts: list[str], path: str) -> Any:
    node = doc
    for part in parts[:-1]:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise ApiError(
                422,
                "Invalid",
                f"the server rejected our request due to an error in our request: doc is missing path: {path!r}",
            )
    return node


def _get(doc: Any, path: str) -> Any:
    parts = _pointer(path)
    if not parts:
        return doc
    parent = _parent(doc, parts, path)
    last = parts[-1]
    if isinstance(parent, dict) and last in parent:
        return parent[last]
    if isinstance(parent, list) and last.isdigit() and int(last) < len(parent):
        return parent[int(last)]
    raise ApiError(
        422,
        "Invalid",
        f"the server rejected our request due to an error in our request: doc is missing path: {path!r}",
    )


def _remove(doc: Any, path: str) -> Any:
    parts = _pointer(path)
    parent = _parent(doc, parts, path)
    last = parts[-1]
    if isinstance(parent, dict) and last in parent:
        return parent.pop(last)
    if isinstance(parent, list) and last.isdigit() and int(last) < len(parent):
        return parent.pop(int(last))
    raise ApiError(
        422,
        "Invalid",
        f"the server rejected our request due to an error in our request: doc is missing path: {path!r}",
    )


def _add(doc: Any, path: str, value: Any, replace: bool) -> Any:
    parts = _pointer(path)
    if not parts:
        return value
    parent = _parent(doc, parts, path)
    last = parts[-1]
    if isinstance(parent, dict):
        if replace and last not in parent:
            raise ApiError(
                422,
                "Invalid",
                f"the server rejected our request due to an error in our request: doc is missing key: {path!r}",
            )
        parent[last] = value
    elif isinstance(parent, list):
        if last == "-":
            parent.append(value)
        elif last.isdigit() and int(last) <= len(parent):
            if replace:
                parent[int(last)] = value
            else:
                parent.insert(int(last), value)
        else:
            raise bad_request(f"json patch: index out of range in {path!r}")
    else:
        raise bad_request(f"json patch: cannot address {path!r}")
    return doc


def json_patch(doc: Any, operations: Any) -> Any:
    if not isinstance(operations, list):
        raise bad_request("json patch: the body must be a list of operations")
    doc = copy.deepcopy(doc)
    for op in operations:
        if not isinstance(op, dict) or "op" not in op or "path" not in op:
            raise bad_request(f"json patch: malformed operation {op!r}")
        kind, path = op["op"], op["path"]
        if kind == "add":
            doc = _add(doc, path, copy.deepcopy(op.get("value")), replace=False)
        elif kind == "replace":
            doc = _add(doc, path, copy.deepcopy(op.get("value")), replace=True)
        elif kind == "remove":
            _remove(doc, path)
        elif kind == "move":
            doc = _add(doc, path, _remove(doc, op["from"]), replace=False)
        elif kind == "copy":
            doc = _add(doc, path, copy.deepcopy(_get(doc, op["from"])), replace=False)
        elif kind == "test":
            if _get(doc, path) != op.get("value"):
                raise ApiError(422, "Invalid", f"json patch: test operation failed at {path!r}")
        else:
            raise bad_request(f"json patch: unknown operation {kind!r}")
    return doc


def parse(content_type: str, body: bytes) -> Any:
    """Decode a patch body; apply patches may be YAML."""
    try:
        if content_type == APPLY:
            return yaml.safe_load(body.decode() or "{}")
        return json.loads(body or b"null")
    except (ValueError, yaml.YAMLError) as error:
        raise bad_request(f"the body of the request could not be decoded: {error}") from None


def apply(content_type: str, original: Obj, body: bytes, schema: Obj | None) -> Obj:
    """Apply a PATCH request body of `content_type` to `original`."""
    base = content_type.split(";")[0].strip().lower()
    if base not in PATCH_TYPES:
        raise unsupported_media_type(content_type)
    patch = parse(base, body)
    if base == JSON_PATCH:
        result = json_patch(original, patch)
    elif not isinstance(patch, dict):
        raise bad_request("the patch must be a JSON object")
    elif base == MERGE:
        result = merge_patch(original, patch)
    else:
        result = strategic_merge(original, patch, schema)
    if not isinstance(result, dict):
        raise bad_request("the patch did not produce an object")
    return result
