"""Just enough of Kubernetes' protobuf encoding to read the few requests kubectl only sends
as protobuf and the simulator must answer (today: `SelfSubjectAccessReview` for
`kubectl auth can-i`). Other protobuf bodies are refused with 415 and a pointer to `-f`.

Wire format: the magic `k8s\\0`, then a `runtime.Unknown` message (1: typeMeta {1: apiVersion,
2: kind}, 2: raw object bytes), the raw bytes being the object's own protobuf message.
"""

from __future__ import annotations

from typing import Any

from local_cloud.gke.api.status import bad_request

MAGIC = b"k8s\x00"
PROTOBUF = "application/vnd.kubernetes.protobuf"
Fields = dict[int, list[Any]]


def _varint(data: bytes, at: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        if at >= len(data):
            raise bad_request("protobuf body ends inside a number")
        byte = data[at]
        value |= (byte & 0x7F) << shift
        at += 1
        if not byte & 0x80:
            return value, at
        shift += 7


def fields(data: bytes) -> Fields:
    """Field number → values (ints for varints, bytes for length-delimited fields)."""
    found: Fields = {}
    at = 0
    while at < len(data):
        tag, at = _varint(data, at)
        number, wire = tag >> 3, tag & 7
        value: Any
        if wire == 0:
            value, at = _varint(data, at)
        elif wire == 2:
            length, at = _varint(data, at)
            value, at = data[at : at + length], at + length
        elif wire == 1:
            value, at = data[at : at + 8], at + 8
        elif wire == 5:
            value, at = data[at : at + 4], at + 4
        else:
            raise bad_request(f"unsupported protobuf wire type {wire}")
        found.setdefault(number, []).append(value)
    return found


def _text(found: Fields, number: int) -> str:
    values = found.get(number) or [b""]
    return bytes(values[-1]).decode()


def _message(found: Fields, number: int) -> Fields:
    values = found.get(number)
    return fields(bytes(values[-1])) if values else {}


def unwrap(body: bytes) -> tuple[str, str, bytes]:
    """(apiVersion, kind, raw object bytes) of an enveloped protobuf body."""
    if not body.startswith(MAGIC):
        raise bad_request("protobuf body without the k8s envelope")
    unknown = fields(body[len(MAGIC) :])
    type_meta = _message(unknown, 1)
    raw = unknown.get(2) or [b""]
    return _text(type_meta, 1), _text(type_meta, 2), bytes(raw[-1])


def self_subject_access_review(body: bytes) -> dict[str, Any]:
    """The JSON form of a protobuf SelfSubjectAccessReview (its spec is all the server needs)."""
    api_version, kind, raw = unwrap(body)
    if kind != "SelfSubjectAccessReview":
        raise bad_request(f"expected a SelfSubjectAccessReview, got {kind or 'nothing'}")
    spec = _message(fields(raw), 2)
    attributes = _message(spec, 1)
    names = ("namespace", "verb", "group", "version", "resource", "subresource", "name")
    resource = {name: _text(attributes, i + 1) for i, name in enumerate(names)}
    review: dict[str, Any] = {"apiVersion": api_version, "kind": kind, "spec": {}}
    if attributes:
        review["spec"]["resourceAttributes"] = {k: v for k, v in resource.items() if v}
    return review
