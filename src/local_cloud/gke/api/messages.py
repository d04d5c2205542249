"""The request and response shapes passed between the HTTP front end and the resource logic."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from local_cloud.gke.api.status import ApiError, bad_request

Obj = dict[str, Any]
JSON = "application/json"


@dataclass
class Request:
    """One API request, already split into its parts."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: bytes = b""
    user: str = "system:anonymous"

    def param(self, name: str, default: str = "") -> str:
        return self.query.get(name, default)

    def flag(self, name: str) -> bool:
        return self.query.get(name, "").lower() in ("true", "1")

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    @property
    def accept(self) -> str:
        return self.headers.get("accept", "")

    @property
    def wants_table(self) -> bool:
        first = self.accept.split(",")[0].replace(" ", "")
        return "as=Table" in first and "g=meta.k8s.io" in first

    @property
    def dry_run(self) -> bool:
        return self.query.get("dryRun") == "All"

    def json_body(self, required: bool = True) -> Any:
        """Decode the body; a missing Content-Type means JSON, as in kube-apiserver."""
        base = self.content_type.split(";")[0].strip().lower()
        if not self.body.strip():
            if required:
                raise bad_request("the body of the request is empty")
            return None
        if base in ("application/yaml", "application/x-yaml"):
            import yaml

            try:
                return yaml.safe_load(self.body)
            except yaml.YAMLError as error:
                raise bad_request(
                    f"the body of the request could not be decoded: {error}"
                ) from None
        if base == "application/vnd.kubernetes.protobuf":
            raise ApiError(
                415,
                "UnsupportedMediaType",
                "the simulated cluster accepts JSON and YAML request bodies, not protobuf "
                "(kubectl create deployment/expose/autoscale send protobuf): write a manifest "
                "and use kubectl create -f or apply -f",
            )
        if base not in ("", JSON, "*/*", "text/plain"):
            raise ApiError(
                415,
                "UnsupportedMediaType",
                f"the body of the request was in an unknown format - accepted media types include: "
                f'application/json, application/yaml (got "{base}")',
            )
        try:
            return json.loads(self.body)
        except ValueError as error:
            raise bad_request(f"the body of the request could not be decoded: {error}") from None


@dataclass
class Response:
    """A whole response, or a streamed one when `stream` is set (chunked transfer)."""

    status: int = 200
    body: bytes = b""
    content_type: str = JSON
    stream: Iterator[bytes] | None = None
    headers: dict[str, str] = field(default_factory=dict)


def json_response(obj: Any, status: int = 200, warnings: list[str] | None = None) -> Response:
    response = Response(status, json.dumps(obj, separators=(",", ":")).encode())
    if warnings:
        response.headers["Warning"] = ", ".join(f'299 - "{w}"' for w in warnings)
    return response


def error_response(error: ApiError) -> Response:
    response = json_response(error.status(), error.code)
    response.headers.update(error.headers)
    return response
