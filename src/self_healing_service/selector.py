"""Kubernetes equality-based label selectors (`app=cart,tier!=batch,canary,!legacy`), to limit
the service to workloads that opted in. Set-based forms (`in`, `notin`) are refused by name."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Operator = Literal["=", "!=", "exists", "absent"]
_KEY = re.compile(r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$")


class SelectorError(ValueError):
    """A selector that cannot be used; the message names the part at fault."""


@dataclass(frozen=True)
class Requirement:
    key: str
    operator: Operator
    value: str = ""

    def matches(self, labels: dict[str, str]) -> bool:
        if self.operator == "exists":
            return self.key in labels
        if self.operator == "absent":
            return self.key not in labels
        if self.operator == "=":
            return labels.get(self.key) == self.value
        return labels.get(self.key) != self.value


def parse_selector(text: str) -> tuple[Requirement, ...]:
    """The requirements of `text` (empty: none, which every workload meets)."""
    requirements = []
    for raw in (part.strip() for part in text.split(",")):
        if not raw:
            if text.strip():
                raise SelectorError(f"empty requirement in {text!r}")
            continue
        if re.search(r"\s(not)?in\s*\(", raw) or "(" in raw:
            raise SelectorError(f"{raw!r}: set-based requirements (in, notin) are not supported")
        requirement = _requirement(raw)
        if not _KEY.match(requirement.key):
            raise SelectorError(f"{raw!r}: {requirement.key!r} is not a valid label key")
        if not _VALUE.match(requirement.value) or len(requirement.value) > 63:
            raise SelectorError(f"{raw!r}: {requirement.value!r} is not a valid label value")
        requirements.append(requirement)
    return tuple(requirements)


def _requirement(raw: str) -> Requirement:
    if "!=" in raw:
        key, value = raw.split("!=", 1)
        return Requirement(key.strip(), "!=", value.strip())
    if "=" in raw:
        key, value = raw.replace("==", "=", 1).split("=", 1)
        return Requirement(key.strip(), "=", value.strip())
    if raw.startswith("!"):
        return Requirement(raw[1:].strip(), "absent")
    return Requirement(raw, "exists")


def matches(requirements: tuple[Requirement, ...], labels: dict[str, str]) -> bool:
    return all(r.matches(labels) for r in requirements)
