"""Parse and validate telemetry messages (contracts §1) into metric points and log records.

A message that cannot be used becomes a `DeadLetter` carrying the reason and the raw payload:
nothing is dropped silently and nothing raises. Each accepted message also yields the row
stored in the warehouse (`raw_metrics`, or `raw_logs` in the Cloud Logging sink schema).
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

from telemetry_pipeline.record_types import (
    ERROR_SEVERITIES,
    LOG_RESOURCES,
    PAYLOAD_LIMIT,
    RESOURCE_LABELS,
    DeadLetter,
    LogRecord,
    MetricPoint,
    Row,
    SourceKey,
)
from telemetry_pipeline.timestamps import _CACHE as _SEEN
from telemetry_pipeline.timestamps import TimestampError, parse_rfc3339

# The record types are part of this module's interface: importers take them from here.
__all__ = [
    "ERROR_SEVERITIES",
    "LOG_RESOURCES",
    "PAYLOAD_LIMIT",
    "RESOURCE_LABELS",
    "DeadLetter",
    "Invalid",
    "LogRecord",
    "MetricPoint",
    "Row",
    "SourceKey",
    "deployment_of_pod",
    "parse_log",
    "parse_metric",
]


class Invalid(Exception):
    """Internal: the reason a message is rejected."""


_DEPLOYMENTS: dict[str, str | None] = {}


def deployment_of_pod(pod: str) -> str | None:
    """The Deployment a pod name implies (`cart-7d9f8c6b5-x2kqp` → `cart`), if it has that shape."""
    if pod in _DEPLOYMENTS:
        return _DEPLOYMENTS[pod]
    if len(_DEPLOYMENTS) > 50_000:
        _DEPLOYMENTS.clear()
    found = _DEPLOYMENTS[pod] = _deployment_of_pod(pod)
    return found


def _deployment_of_pod(pod: str) -> str | None:
    parts = pod.rsplit("-", 2)
    if len(parts) == 3 and len(parts[2]) == 5 and 5 <= len(parts[1]) <= 10 and parts[0]:
        return parts[0]
    return None


def parse_metric(message: Any, received_at: float = 0.0) -> MetricPoint | DeadLetter:
    """A TimeSeries message (JSON text, bytes or dict) → a metric point, or a dead letter."""
    if type(message) is str or type(message) is bytes:
        # On failure the careful path below parses again and names the problem.
        with contextlib.suppress(ValueError, UnicodeDecodeError):
            message = json.loads(message)
    if type(message) is dict:
        try:
            fast = _metric_fast(message)
        except (KeyError, TypeError, ValueError, IndexError, AttributeError):
            fast = None
        if fast is not None:
            return fast
    try:
        return _metric(_document(message))
    except Invalid as exc:
        return DeadLetter("metric", str(exc), _payload(message), received_at)


def parse_log(message: Any, received_at: float = 0.0) -> LogRecord | DeadLetter:
    """A LogEntry message (JSON text, bytes or dict) → a log record, or a dead letter."""
    try:
        return _log(_document(message))
    except Invalid as exc:
        return DeadLetter("log", str(exc), _payload(message), received_at)


def _document(message: Any) -> dict[str, Any]:
    if isinstance(message, bytes | str):
        try:
            message = json.loads(message)
        except (ValueError, UnicodeDecodeError) as exc:
            raise Invalid(f"malformed JSON: {exc}") from None
    if not isinstance(message, dict):
        raise Invalid(f"wrong type: message expected an object, got {type(message).__name__}")
    return message


def _payload(message: Any) -> str:
    if isinstance(message, bytes):
        return message.decode("utf-8", "replace")[:PAYLOAD_LIMIT]
    if isinstance(message, str):
        return message[:PAYLOAD_LIMIT]
    try:
        return json.dumps(message, default=str)[:PAYLOAD_LIMIT]
    except (TypeError, ValueError):
        return repr(message)[:PAYLOAD_LIMIT]


def _object(doc: dict[str, Any], name: str, path: str) -> dict[str, Any]:
    value = doc.get(name)
    if value is None:
        raise Invalid(f"missing field: {path}")
    if not isinstance(value, dict):
        raise Invalid(f"wrong type: {path} expected an object, got {type(value).__name__}")
    return value


def _text(doc: dict[str, Any], name: str, path: str) -> str:
    value = doc.get(name)
    if value is None or value == "":
        raise Invalid(f"missing field: {path}")
    if not isinstance(value, str):
        raise Invalid(f"wrong type: {path} expected a string, got {type(value).__name__}")
    return value


def _time(doc: dict[str, Any], name: str, path: str) -> float:
    try:
        return parse_rfc3339(_text(doc, name, path))
    except TimestampError as exc:
        raise Invalid(f"wrong type: {path}: {exc}") from None


def _labels(doc: dict[str, Any], path: str) -> dict[str, str]:
    labels = doc.get("labels")
    if labels is None:
        return {}
    if not isinstance(labels, dict):
        raise Invalid(f"wrong type: {path}.labels expected an object")
    return labels


def _source(resource: dict[str, Any], path: str) -> tuple[str, dict[str, str], SourceKey]:
    kind = _text(resource, "type", f"{path}.type")
    labels = _labels(resource, path)
    needed = RESOURCE_LABELS.get(kind)
    if needed is None and kind != "k8s_cluster":
        raise Invalid(f"unsupported {path}.type: {kind!r}")
    for name in needed or ():
        _text(labels, name, f"{path}.labels.{name}")
    key = SourceKey(
        labels.get("namespace_name", ""),
        labels.get("pod_name", ""),
        labels.get("container_name", ""),
        labels.get("node_name", "") if kind == "k8s_node" else "",
    )
    return kind, labels, key


def _value(value: Any, path: str) -> float:
    if not isinstance(value, dict):
        raise Invalid(f"wrong type: {path} expected an object")
    if "doubleValue" in value:
        number = value["doubleValue"]
        if isinstance(number, bool) or not isinstance(number, int | float | str):
            raise Invalid(f"wrong type: {path}.doubleValue expected a number")
        try:
            return float(number)
        except ValueError:
            raise Invalid(f"wrong type: {path}.doubleValue expected a number") from None
    if "int64Value" in value:
        number = value["int64Value"]
        if isinstance(number, bool) or not isinstance(number, int | str):
            raise Invalid(f"wrong type: {path}.int64Value expected an integer string")
        try:
            return float(int(number))
        except ValueError:
            raise Invalid(f"wrong type: {path}.int64Value expected an integer string") from None
    if "boolValue" in value:
        flag = value["boolValue"]
        if not isinstance(flag, bool):
            raise Invalid(f"wrong type: {path}.boolValue expected a boolean")
        return 1.0 if flag else 0.0
    raise Invalid(f"missing field: {path}.doubleValue|int64Value|boolValue")


_EMPTY: dict[str, str] = {}


def _metric_fast(doc: dict[str, Any]) -> MetricPoint | None:
    """The common well-formed message, read with few checks; None sends it to `_metric`.

    Every value it accepts is exactly what `_metric` would accept: anything unusual (a missing
    label, a non-string, a bool value) returns None and the careful path names the problem.
    """
    metric = doc["metric"]
    metric_type = metric["type"]
    resource = doc["resource"]
    resource_type = resource["type"]
    labels = resource["labels"]
    if resource_type == "k8s_container":
        source = SourceKey(
            labels["namespace_name"], labels["pod_name"], labels["container_name"], ""
        )
        if not (source[0] and source[1] and source[2]):
            return None
    elif resource_type == "k8s_pod":
        source = SourceKey(labels["namespace_name"], labels["pod_name"], "", "")
        if not (source[0] and source[1]):
            return None
    elif resource_type == "k8s_node":
        source = SourceKey("", "", "", labels["node_name"])
        if not source[3]:
            return None
    else:
        return None
    if type(metric_type) is not str or not metric_type or type(source[0]) is not str:
        return None
    if type(source[1]) is not str or type(source[2]) is not str or type(source[3]) is not str:
        return None
    point = doc["points"][0]
    interval = point["interval"]
    end_text = interval["endTime"]
    end = _SEEN.get(end_text)
    if end is None:
        if type(end_text) is not str:
            return None
        end = parse_rfc3339(end_text)
    start_text = interval.get("startTime")
    start = None
    if start_text:
        start = _SEEN.get(start_text)
        if start is None:
            if type(start_text) is not str:
                return None
            start = parse_rfc3339(start_text)
    value = point["value"]
    number = value.get("doubleValue")
    if number is not None:
        if type(number) is not float and type(number) is not int:
            return None
        number = float(number)
    else:
        text = value["int64Value"]
        if type(text) is not str and type(text) is not int:
            return None
        number = float(int(text))
    deployment = node = None
    metadata = doc.get("metadata")
    if metadata is not None:
        system = metadata.get("systemLabels")
        if system is not None:
            if system.get("top_level_controller_type") == "Deployment":
                deployment = system.get("top_level_controller_name")
            node = system.get("node_name")
    if resource_type == "k8s_node":
        node = source[3]
    elif deployment is None:
        deployment = deployment_of_pod(source[1])
    metric_labels = metric.get("labels")
    if metric_labels is None:
        metric_labels = _EMPTY
    elif type(metric_labels) is not dict:
        return None
    kind = doc.get("metricKind", "GAUGE")
    return MetricPoint(
        metric_type,
        kind if type(kind) is str else "GAUGE",
        number,
        end,
        start,
        source,
        deployment,
        node,
        metric_labels,
        resource_type,
        labels,
        end_text,
        start_text if start is not None else None,
    )


def _metric(doc: dict[str, Any]) -> MetricPoint:
    metric = _object(doc, "metric", "metric")
    metric_type = _text(metric, "type", "metric.type")
    resource_type, resource_labels, source = _source(
        _object(doc, "resource", "resource"), "resource"
    )
    if resource_type == "k8s_cluster":
        raise Invalid("unsupported resource.type: 'k8s_cluster'")
    points = doc.get("points")
    if points is None:
        raise Invalid("missing field: points")
    if not isinstance(points, list) or not points:
        raise Invalid("wrong type: points expected a non-empty list")
    point = points[0]
    if not isinstance(point, dict):
        raise Invalid("wrong type: points[0] expected an object")
    interval = _object(point, "interval", "points[0].interval")
    end = _time(interval, "endTime", "points[0].interval.endTime")
    start = (
        _time(interval, "startTime", "points[0].interval.startTime")
        if interval.get("startTime")
        else None
    )
    value = _value(point.get("value"), "points[0].value")
    metadata = doc.get("metadata")
    system = metadata.get("systemLabels") if isinstance(metadata, dict) else None
    deployment = node = None
    if isinstance(system, dict):
        if system.get("top_level_controller_type") == "Deployment":
            deployment = system.get("top_level_controller_name")
        node = system.get("node_name")
    if source.node:
        node = source.node
    elif deployment is None and source.pod:
        deployment = deployment_of_pod(source.pod)
    kind = doc.get("metricKind", "GAUGE")
    return MetricPoint(
        metric_type,
        kind if isinstance(kind, str) else "GAUGE",
        value,
        end,
        start,
        source,
        deployment,
        node,
        _labels(metric, "metric"),
        resource_type,
        resource_labels,
        interval["endTime"],
        interval["startTime"] if start is not None else None,
    )


_LOG_RESOURCE_LABELS = (
    "project_id",
    "location",
    "cluster_name",
    "namespace_name",
    "pod_name",
    "container_name",
    "node_name",
)


def _log(doc: dict[str, Any]) -> LogRecord:
    log_name = _text(doc, "logName", "logName")
    resource = _object(doc, "resource", "resource")
    resource_type, resource_labels, source = _source(resource, "resource")
    time = _time(doc, "timestamp", "timestamp")
    received = doc.get("receiveTimestamp")
    if received is not None:
        _time(doc, "receiveTimestamp", "receiveTimestamp")
    severity = doc.get("severity", "DEFAULT")
    if not isinstance(severity, str):
        raise Invalid("wrong type: severity expected a string")
    text = doc.get("textPayload")
    payload = doc.get("jsonPayload")
    if text is not None and not isinstance(text, str):
        raise Invalid("wrong type: textPayload expected a string")
    if payload is not None and not isinstance(payload, dict):
        raise Invalid("wrong type: jsonPayload expected an object")
    if text is None and payload is None:
        raise Invalid("missing field: textPayload|jsonPayload")
    entry_labels = _labels(doc, "entry")
    event_reason: str | None = None
    if log_name.endswith("/logs/events"):
        reason = (payload or {}).get("reason")
        if not isinstance(reason, str) or not reason:
            raise Invalid("missing field: jsonPayload.reason (events log)")
        event_reason = reason
        message = str((payload or {}).get("message", ""))
    elif text is not None:
        message = text
    else:
        message = str((payload or {}).get("message", ""))
    node = source.node or entry_labels.get("compute.googleapis.com/resource_name") or None
    deployment = deployment_of_pod(source.pod) if source.pod else None
    if deployment is None:
        for key, value in entry_labels.items():
            if key == "k8s-pod/app" and isinstance(value, str):
                deployment = value
    insert_id = doc.get("insertId")
    row: Row = {
        "logName": log_name,
        "resource": {
            "type": resource_type,
            "labels": {name: resource_labels.get(name) for name in _LOG_RESOURCE_LABELS},
        },
        "textPayload": text,
        "jsonPayload": None if payload is None else json.dumps(payload, sort_keys=True),
        "timestamp": doc["timestamp"],
        "receiveTimestamp": received,
        "severity": severity,
        "insertId": insert_id if isinstance(insert_id, str) else None,
        "labels": json.dumps(entry_labels, sort_keys=True) if entry_labels else None,
    }
    return LogRecord(time, severity, source, deployment, node, message, event_reason, row)
