"""Load a YAML document into a pydantic model, with errors that name the field and its line."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


class YamlModelError(Exception):
    """A document that does not fit its model; one line per problem: `source: line N: field: why`."""


def line_index(text: str) -> dict[tuple[str | int, ...], int]:
    """Map each key path in the YAML document to the 1-based line it starts on."""
    lines: dict[tuple[str | int, ...], int] = {}
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return lines

    def walk(node: yaml.Node | None, path: tuple[str | int, ...]) -> None:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                sub = (*path, str(key.value))
                lines[sub] = key.start_mark.line + 1
                walk(value, sub)
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                sub = (*path, i)
                lines[sub] = item.start_mark.line + 1
                walk(item, sub)

    walk(root, ())
    return lines


def parse_mapping(text: str, source: str) -> dict[str, Any]:
    """Parse YAML text that must be a mapping (an empty document is an empty mapping)."""
    try:
        data = yaml.safe_load(text) if text.strip() else {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "line ?"
        problem = getattr(exc, "problem", None) or str(exc)
        raise YamlModelError(f"{source}: {where}: not valid YAML: {problem}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise YamlModelError(f"{source}: line 1: the file must be a mapping of fields")
    return data


def validate(
    model: type[M],
    data: Mapping[str, Any],
    text: str,
    source: str,
    overridden: Mapping[tuple[str, ...], str] | None = None,
) -> M:
    """Validate `data` (parsed from `text`) into `model`; errors name field and line.

    `overridden` maps key paths that came from somewhere else (environment variables) to a
    description of where, so their errors point there instead of at a line.
    """
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        lines = line_index(text)
        messages = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            field = ".".join(str(p) for p in loc) or "(root)"
            origin = (overridden or {}).get(tuple(str(p) for p in loc))
            if origin is None:
                line = _nearest_line(lines, loc)
                origin = f"line {line}" if line else "line ?"
            reason = "unknown field (misspelt?)" if err["type"] == "extra_forbidden" else err["msg"]
            messages.append(f"{source}: {origin}: {field}: {reason}")
        raise YamlModelError("\n".join(messages)) from None


def _nearest_line(lines: dict[tuple[str | int, ...], int], loc: tuple[Any, ...]) -> int | None:
    for end in range(len(loc), 0, -1):
        line = lines.get(tuple(loc[:end]))
        if line is not None:
            return line
    return None
