"""Label selectors (`app=web,tier!=db,env in (a,b),!canary`) and field selectors, as predicates."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from local_cloud.gke.api.status import bad_request

Obj = dict[str, Any]
Predicate = Callable[[Obj], bool]

_SET_RE = re.compile(r"^\s*(!?)([A-Za-z0-9_./-]+)\s*(?:(in|notin)\s*\(([^)]*)\))?\s*$")
_EQ_RE = re.compile(r"^\s*([A-Za-z0-9_./-]+)\s*(==|=|!=)\s*([A-Za-z0-9_.-]*)\s*$")


def _split_terms(text: str) -> list[str]:
    """Split on commas that are not inside `in (...)` parentheses."""
    terms, depth, current = [], 0, ""
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            terms.append(current)
            current = ""
        else:
            current += char
    if current.strip():
        terms.append(current)
    return [t for t in terms if t.strip()]


def label_requirement(term: str) -> Callable[[dict[str, str]], bool]:
    eq = _EQ_RE.match(term)
    if eq:
        key, op, value = eq.groups()
        if op == "!=":
            return lambda labels: labels.get(key) != value
        return lambda labels: labels.get(key) == value
    match = _SET_RE.match(term)
    if not match:
        raise bad_request(f"unable to parse requirement: {term.strip()!r}")
    negate, key, op, values_text = match.groups()
    if op:
        if negate:
            raise bad_request(f"unable to parse requirement: {term.strip()!r}")
        values = {v.strip() for v in values_text.split(",") if v.strip()}
        if op == "in":
            return lambda labels: labels.get(key) in values
        return lambda labels: labels.get(key) not in values
    if negate:
        return lambda labels: key not in labels
    return lambda labels: key in labels


def label_selector(text: str | None) -> Callable[[dict[str, str]], bool] | None:
    """A predicate over a label map, or None when the selector selects everything."""
    if not text or not text.strip():
        return None
    requirements = [label_requirement(term) for term in _split_terms(text)]
    return lambda labels: all(req(labels) for req in requirements)


def matches_label_selector(selector: Obj | None, labels: dict[str, str]) -> bool:
    """Match a structured `LabelSelector` (matchLabels + matchExpressions); empty selects all."""
    if not selector:
        return True
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        present = key in labels
        if op == "In" and (not present or labels[key] not in values):
            return False
        if op == "NotIn" and present and labels[key] in values:
            return False
        if op == "Exists" and not present:
            return False
        if op == "DoesNotExist" and present:
            return False
    return True


def selector_string(selector: Obj | None) -> str:
    """Render a structured LabelSelector as the text form (`app=web,tier in (a,b)`)."""
    if not selector:
        return ""
    parts = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expr in selector.get("matchExpressions") or []:
        op, key = expr.get("operator"), expr.get("key")
        values = ",".join(sorted(expr.get("values") or []))
        if op == "In":
            parts.append(f"{key} in ({values})")
        elif op == "NotIn":
            parts.append(f"{key} notin ({values})")
        elif op == "Exists":
            parts.append(str(key))
        elif op == "DoesNotExist":
            parts.append(f"!{key}")
    return ",".join(parts)


def _get_path(obj: Obj, path: str) -> Any:
    value: Any = obj
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


_COMMON_FIELDS = ("metadata.name", "metadata.namespace")
FIELDS: dict[str, tuple[str, ...]] = {
    "pods": (
        "spec.nodeName",
        "spec.restartPolicy",
        "spec.schedulerName",
        "spec.serviceAccountName",
        "spec.hostNetwork",
        "status.phase",
        "status.podIP",
        "status.nominatedNodeName",
    ),
    "events": (
        "involvedObject.kind",
        "involvedObject.namespace",
        "involvedObject.name",
        "involvedObject.uid",
        "involvedObject.apiVersion",
        "involvedObject.resourceVersion",
        "involvedObject.fieldPath",
        "reason",
        "reportingComponent",
        "source",
        "type",
    ),
    "nodes": ("spec.unschedulable",),
    "namespaces": ("status.phase",),
    "replicasets": ("status.replicas",),
}


def _field_value(obj: Obj, path: str) -> str:
    if path == "source":
        value = (obj.get("source") or {}).get("component") or obj.get("reportingComponent")
    else:
        value = _get_path(obj, path)
    if value is None:
        # Unset booleans select as "false", unset strings as "" (as real field selectors do).
        return "false" if path in ("spec.unschedulable", "spec.hostNetwork") else ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def field_selector(text: str | None, plural: str) -> Predicate | None:
    """A predicate over whole objects for `fieldSelector`; unsupported fields are 400."""
    if not text or not text.strip():
        return None
    allowed = set(_COMMON_FIELDS) | set(FIELDS.get(plural, ()))
    checks: list[tuple[str, bool, str]] = []
    for term in text.split(","):
        if not term.strip():
            continue
        match = re.match(r"^\s*([A-Za-z.]+)\s*(==|=|!=)\s*(.*?)\s*$", term)
        if not match:
            raise bad_request(f"invalid selector: '{text}'; can't understand '{term}'")
        path, op, value = match.groups()
        if path not in allowed:
            raise bad_request(f"field label not supported: {path}")
        checks.append((path, op == "!=", value))

    def predicate(obj: Obj) -> bool:
        return all((_field_value(obj, path) == value) != negate for path, negate, value in checks)

    return predicate


def object_filter(labels: str | None, fields: str | None, plural: str) -> Predicate | None:
    """Combine `labelSelector` and `fieldSelector` query parameters into one predicate."""
    by_label = label_selector(labels)
    by_field = field_selector(fields, plural)
    if by_label is None and by_field is None:
        return None

    def predicate(obj: Obj) -> bool:
        if by_label is not None and not by_label((obj.get("metadata") or {}).get("labels") or {}):
            return False
        return by_field is None or by_field(obj)

    return predicate
