"""The Kubernetes JSON schemas of the served version (from `kubernetes-validate`), loaded once.

They drive three things: server-side validation (`fieldValidation=Strict` rejects unknown
fields; missing or mistyped fields are 422 Invalid), strategic-merge-patch list semantics
(`x-kubernetes-patch-merge-key` / `-strategy`), and the `/openapi/v3` documents kubectl reads.
Without the `kubernetes-validate` package the server still works, only without validation.
"""

from __future__ import annotations

import functools
import json
import threading
from dataclasses import dataclass
from importlib import resources as importlib_resources
from typing import Any

SCHEMA_VERSION = "1.32.0"

Obj = dict[str, Any]


@dataclass(frozen=True)
class FieldProblem:
    """One schema violation: unknown fields are separate because Strict turns them into 400."""

    unknown: bool
    field: str
    message: str
    reason: str
    path: tuple[str | int, ...] = ()  # where the field is, for pruning unknown fields


_load_lock = threading.Lock()


@functools.cache
def definitions() -> dict[str, Obj]:
    """The `$defs` of the strict schemas (no additional properties), keyed by definition name."""
    with _load_lock:
        try:
            root = importlib_resources.files("kubernetes_validate").joinpath(
                f"kubernetes-json-schema/v{SCHEMA_VERSION}-local-strict/_definitions.json"
            )
            data: Obj = json.loads(root.read_text())
        except (ModuleNotFoundError, FileNotFoundError):
            return {}
    defs: dict[str, Obj] = data["$defs"]
    return defs


@functools.cache
def _gvk_index() -> dict[tuple[str, str], str]:
    index: dict[tuple[str, str], str] = {}
    for name, schema in definitions().items():
        for gvk in schema.get("x-kubernetes-group-version-kind", []):
            api_version = f"{gvk['group']}/{gvk['version']}" if gvk["group"] else gvk["version"]
            # Several definitions can claim meta kinds (DeleteOptions); keep the first owner.
            index.setdefault((api_version, gvk["kind"]), name)
    return index


def definition_name(api_version: str, kind: str) -> str | None:
    return _gvk_index().get((api_version, kind))


def resolve(schema: Obj | None) -> Obj | None:
    """Follow `$ref`s to the definition they name."""
    seen = 0
    while schema is not None and "$ref" in schema and seen < 20:
        ref: str = schema["$ref"]
        schema = definitions().get(ref.rsplit("/", 1)[-1])
        seen += 1
    return schema


def kind_schema(api_version: str, kind: str) -> Obj | None:
    name = definition_name(api_version, kind)
    return definitions().get(name) if name else None


def property_schema(schema: Obj | None, key: str) -> Obj | None:
    """The schema of `key` inside an object schema (a map's value schema for free-form maps)."""
    schema = resolve(schema)
    if schema is None:
        return None
    props = schema.get("properties")
    if props and key in props:
        return resolve(props[key]) or props[key]
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        return resolve(extra) or extra
    return None


def item_schema(schema: Obj | None) -> Obj | None:
    schema = resolve(schema)
    if schema is None:
        return None
    items = schema.get("items")
    return resolve(items) if isinstance(items, dict) else None


@functools.cache
def _validator(definition: str) -> Any:
    import jsonschema  # part of kubernetes-validate's dependencies; imported only when used

    schema = {"$ref": f"#/$defs/{definition}", "$defs": definitions()}
    return jsonschema.Draft202012Validator(schema)


def _path(parts: Any) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def problems(obj: Obj) -> list[FieldProblem]:
    """Every schema violation of `obj` against its kind's strict schema (empty if unknown kind)."""
    name = definition_name(str(obj.get("apiVersion", "")), str(obj.get("kind", "")))
    if name is None:
        return []
    found: list[FieldProblem] = []
    for error in _validator(name).iter_errors(obj):
        where = _path(error.absolute_path)
        if error.validator == "additionalProperties":
            known = set((error.schema or {}).get("properties", {}))
            instance = error.instance if isinstance(error.instance, dict) else {}
            for extra in sorted(set(instance) - known):
                field = f"{where}.{extra}" if where else extra
                path = (*error.absolute_path, extra)
                found.append(
                    FieldProblem(True, field, f'unknown field "{field}"', "FieldValueInvalid", path)
                )
        elif error.validator == "required":
            missing = str(error.message).split("'")[1] if "'" in error.message else ""
            field = f"{where}.{missing}" if where else missing
            found.append(FieldProblem(False, field, "Required value", "FieldValueRequired"))
        elif error.validator == "enum" and where in ("apiVersion", "kind"):
            continue
        else:
            found.append(
                FieldProblem(False, where, f"Invalid value: {error.message}", "FieldValueInvalid")
            )
    return found
