"""`meta.k8s.io/v1 Table` assembly: column definitions, rows and row objects.

The columns and cells come from `printers`; rows are rendered for the time of the request.
"""

from __future__ import annotations

from typing import Any

from local_cloud.gke.api.printers import (
    AGE_COLUMN,
    NAME_COLUMN,
    PRINTERS,
    Ago,
    default_row,
    human_duration,
    meta_of,
    parse_time,
)

Obj = dict[str, Any]
__all__ = ["Ago", "human_duration", "parse_time", "render_row", "row_entry", "table", "table_head"]


def _row_object(obj: Obj, include: str) -> Obj | None:
    if include == "None":
        return None
    if include == "Object":
        return obj
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": meta_of(obj),
    }


def row_entry(plural: str, obj: Obj, include: str) -> Obj:
    """One Table row with its time-dependent cells still as `Ago` (render or cache them)."""
    entry: Obj = {"cells": PRINTERS.get(plural, ([], default_row))[1](obj)}
    included = _row_object(obj, include)
    if included is not None:
        entry["object"] = included
    return entry


def render_row(entry: Obj, now: float) -> Obj:
    return {**entry, "cells": [c.render(now) if isinstance(c, Ago) else c for c in entry["cells"]]}


def table(
    plural: str, objects: list[Obj], now: float, resource_version: str, include: str = "Metadata"
) -> Obj:
    """A Table of `objects` (each already in served form)."""
    return table_head(plural, resource_version) | {
        "rows": [render_row(row_entry(plural, obj, include), now) for obj in objects]
    }


def table_head(plural: str, resource_version: str) -> Obj:
    """The Table without rows: kind, resourceVersion and the column definitions."""
    columns = PRINTERS.get(plural, ([NAME_COLUMN, AGE_COLUMN], default_row))[0]
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": resource_version},
        "columnDefinitions": [
            {
                "name": name,
                "type": type_,
                "format": "name" if name == "Name" and priority == 0 else "",
                "description": f"{name} of the object",
                "priority": priority,
            }
            for name, type_, priority in columns
        ],
        "rows": [],
    }
