"""Reading and writing stored resources: get, list, create, replace, patch, and the status
and scale subresources, with admission, validation, dry runs and Status errors.
"""

from __future__ import annotations

import base64
import copy
import json
import uuid
from typing import Any

from local_cloud.clock import rfc3339
from local_cloud.gke.api import admission, patch, schemas
from local_cloud.gke.api.encoding import ObjectEncoder, dumps, served
from local_cloud.gke.api.messages import Request, Response, json_response
from local_cloud.gke.api.resources import ResourceType
from local_cloud.gke.api.selectors import object_filter, selector_string
from local_cloud.gke.api.status import (
    ApiError,
    already_exists,
    bad_request,
    from_store,
    not_found,
)
from local_cloud.gke.api.tables import table, table_head
from local_cloud.gke.store import Conflict, ObjectStore, StoreError

Obj = dict[str, Any]

# Resources whose status is only written through the status subresource.
_STATUS_GUARDED = {
    "pods",
    "deployments",
    "replicasets",
    "daemonsets",
    "statefulsets",
    "services",
    "poddisruptionbudgets",
    "horizontalpodautoscalers",
    "namespaces",
    "nodes",
}
_STATUS_CLEARED_ON_CREATE = {
    "deployments",
    "replicasets",
    "daemonsets",
    "statefulsets",
    "poddisruptionbudgets",
    "horizontalpodautoscalers",
    "pods",
}


def _sort_key(obj: Obj) -> tuple[str, str]:
    meta = obj["metadata"]
    return (meta.get("namespace") or "", meta["name"])


def _continue_token(rv: str, last: tuple[str, str]) -> str:
    raw = json.dumps({"rv": rv, "after": list(last)}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _page(request: Request) -> tuple[int, tuple[str, str] | None]:
    """`limit` and the position a `continue` token resumes after (lists are sorted by key)."""
    try:
        limit = int(request.param("limit") or 0)
    except ValueError:
        raise bad_request("limit must be an integer") from None
    token = request.param("continue")
    if not token:
        return limit, None
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        namespace, name = data["after"]
        return limit, (str(namespace), str(name))
    except (ValueError, KeyError, TypeError):
        raise bad_request("continue key is not valid") from None


class ResourceRest:
    """The generic REST verbs over the `ObjectStore` for one API server."""

    def __init__(self, store: ObjectStore, encoder: ObjectEncoder) -> None:
        self.store = store
        self.encoder = encoder

    # -- helpers -------------------------------------------------------------------------
    def now(self) -> float:
        return self.store.clock.now()

    def fetch(self, resource: ResourceType, namespace: str | None, name: str) -> Obj:
        try:
            return served(resource.plural, self.store.get(resource.plural, namespace, name))
        except StoreError:
            raise not_found(resource.plural, resource.group, name) from None

    def require_namespace(self, resource: ResourceType, namespace: str | None) -> None:
        if resource.namespaced and namespace is not None:
            try:
                self.store.get("namespaces", None, namespace)
            except StoreError:
                raise not_found("namespaces", "", namespace) from None

    def respond(
        self,
        request: Request,
        resource: ResourceType,
        obj: Obj,
        status: int = 200,
        warnings: list[str] | None = None,
    ) -> Response:
        if request.wants_table:
            rv = str((obj.get("metadata") or {}).get("resourceVersion", ""))
            body = table(
                resource.plural, [obj], self.now(), rv, request.param("includeObject", "Metadata")
            )
            return json_response(body, status, warnings)
        return json_response(obj, status, warnings)

    # -- reads ---------------------------------------------------------------------------
    def get(
        self, request: Request, resource: ResourceType, namespace: str | None, name: str
    ) -> Response:
        return self.respond(request, resource, self.fetch(resource, namespace, name))

    def list_objects(
        self, request: Request, resource: ResourceType, namespace: str | None
    ) -> Response:
        label_text, field_text = request.param("labelSelector"), request.param("fieldSelector")
        predicate = object_filter(label_text, field_text, resource.plural)
        limit, after = _page(request)
        with self.store.locked():
            rv = str(self.store.resource_version)
            key = (resource.plural, namespace or "", label_text, field_text)
            paged = limit > 0 or after is not None
            whole = not (request.wants_table or paged)
            items = self.encoder.cached_items(key) if whole else None
            meta: Obj = {"resourceVersion": rv}
            if items is None:
                live = [
                    obj
                    for obj in self.store.peek(resource.plural)
                    if (
                        namespace is None
                        or (obj.get("metadata") or {}).get("namespace") == namespace
                    )
                    and (predicate is None or predicate(obj))
                ]
                live.sort(key=_sort_key)
                if after is not None:
                    live = [o for o in live if _sort_key(o) > after]
                if 0 < limit < len(live):
                    meta["continue"] = _continue_token(rv, _sort_key(live[limit - 1]))
                    meta["remainingItemCount"] = len(live) - limit
                    live = live[:limit]
                if request.wants_table:
                    include, now = request.param("includeObject", "Metadata"), self.now()
                    rows = b",".join(
                        self.encoder.encode_row(resource.plural, o, include, now) for o in live
                    )
                    head = dumps(table_head(resource.plural, rv) | {"metadata": meta})
                    return Response(200, head[:-3] + b"[" + rows + b"]}")
                items = b",".join(self.encoder.encode(resource.plural, o) for o in live)
                if whole:
                    self.encoder.remember_items(key, items)
        head = dumps(
            {"kind": resource.kind + "List", "apiVersion": resource.api_version, "metadata": meta}
        )
        body = head[:-1] + b',"items":[' + items + b"]}"
        return Response(200, body)

    # -- writes --------------------------------------------------------------------------
    def _admit(self, request: Request, resource: ResourceType, obj: Obj) -> list[str]:
        mode = admission.check_field_validation(request.query.get("fieldValidation"))
        try:
            admission.default(resource, obj)
        except (AttributeError, TypeError, KeyError):
            # A field of the wrong shape (`"spec": null`, a list for an object): say which.
            obj.setdefault("apiVersion", resource.api_version)
            obj.setdefault("kind", resource.kind)
            admission.validate(resource, obj, mode)
            raise bad_request(
                "the object could not be decoded: a field has the wrong type"
            ) from None
        return admission.validate(resource, obj, mode)

    def _check_body(self, resource: ResourceType, body: Any, namespace: str | None) -> Obj:
        if not isinstance(body, dict):
            raise bad_request("the body of the request must be a JSON object")
        kind, api_version = body.get("kind"), body.get("apiVersion")
        if (kind and kind != resource.kind) or (
            api_version and api_version != resource.api_version
        ):
            raise bad_request(
                f"the API version in the data ({api_version}) does not match the expected API "
                f"version ({resource.api_version})"
                if api_version != resource.api_version
                else f"the kind in the data ({kind}) does not match the expected kind ({resource.kind})"
            )
        meta = body.setdefault("metadata", {})
        if not isinstance(meta, dict):
            raise bad_request("metadata must be an object")
        if resource.namespaced:
            if meta.get("namespace") and meta["namespace"] != namespace:
                raise bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request"
                )
            meta["namespace"] = namespace
        else:
            meta.pop("namespace", None)
        meta.pop("managedFields", None)
        return body

    def create(self, request: Request, resource: ResourceType, namespace: str | None) -> Response:
        obj = self._check_body(resource, request.json_body(), namespace)
        return self.create_object(request, resource, namespace, obj)

    def create_object(
        self, request: Request, resource: ResourceType, namespace: str | None, obj: Obj
    ) -> Response:
        self.require_namespace(resource, namespace)
        meta = obj["metadata"]
        if meta.get("resourceVersion"):
            raise bad_request("resourceVersion should not be set on objects to be created")
        for server_field in ("uid", "creationTimestamp", "deletionTimestamp", "generation"):
            meta.pop(server_field, None)
        if resource.plural in _STATUS_CLEARED_ON_CREATE:
            obj.pop("status", None)
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = meta["generateName"] + uuid.uuid4().hex[:5]
        warnings = self._admit(request, resource, obj)
        if request.dry_run:
            try:
                self.store.get(resource.plural, namespace, meta.get("name", ""))
            except StoreError:
                meta.update(
                    uid=str(uuid.uuid4()), creationTimestamp=rfc3339(self.now()), generation=1
                )
                return self.respond(request, resource, obj, 201, warnings)
            raise already_exists(resource.plural, resource.group, meta.get("name", ""))
        try:
            created = self.store.create(resource.plural, obj)
        except StoreError as error:
            raise from_store(error, resource.plural, resource.group, meta.get("name", "")) from None
        return self.respond(request, resource, served(resource.plural, created), 201, warnings)

    def _merge_guarded(
        self, resource: ResourceType, current: Obj, desired: Obj, subresource: str
    ) -> Obj:
        """Keep what this endpoint may not change: status on the main resource, the rest on /status."""
        if subresource == "status":
            result = copy.deepcopy(current)
            if "status" in desired:
                result["status"] = desired["status"]
            else:
                result.pop("status", None)
            result["metadata"]["resourceVersion"] = desired.get("metadata", {}).get(
                "resourceVersion", current["metadata"].get("resourceVersion")
            )
            return result
        if resource.plural in _STATUS_GUARDED:
            if "status" in current:
                desired["status"] = copy.deepcopy(current["status"])
            else:
                desired.pop("status", None)
        meta, old = desired.setdefault("metadata", {}), current["metadata"]
        for server_field in (
            "uid",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
        ):
            if server_field in old:
                meta[server_field] = old[server_field]
            else:
                meta.pop(server_field, None)
        return desired

    def _write(
        self, request: Request, resource: ResourceType, current: Obj, desired: Obj, subresource: str
    ) -> tuple[Obj, list[str]]:
        """Admit and store `desired` as the new version of `current` (caller holds the lock)."""
        name = current["metadata"]["name"]
        desired = self._merge_guarded(resource, current, desired, subresource)
        desired["metadata"]["name"] = name
        if resource.namespaced:
            desired["metadata"]["namespace"] = current["metadata"].get("namespace")
        desired["metadata"].pop("managedFields", None)
        admission.carry_over(resource, current, desired)
        warnings = self._admit(request, resource, desired)
        if subresource != "status":
            admission.check_update(resource, current, desired)
        sent_rv = desired["metadata"].get("resourceVersion")
        if sent_rv and sent_rv != current["metadata"].get("resourceVersion"):
            raise from_store(Conflict(""), resource.plural, resource.group, name)
        if request.dry_run:
            return desired, warnings
        finalizers_done = bool(current["metadata"].get("deletionTimestamp")) and not desired[
            "metadata"
        ].get("finalizers")
        try:
            stored = self.store.update(resource.plural, desired)
            if finalizers_done:
                stored = self.store.delete(
                    resource.plural, current["metadata"].get("namespace"), name
                )
        except StoreError as error:
            raise from_store(error, resource.plural, resource.group, name) from None
        return served(resource.plural, stored), warnings

    def replace(
        self,
        request: Request,
        resource: ResourceType,
        namespace: str | None,
        name: str,
        subresource: str = "",
    ) -> Response:
        desired = self._check_body(resource, request.json_body(), namespace)
        if desired["metadata"].get("name") not in (None, name):
            raise bad_request("the name of the object does not match the name on the URL")
        with self.store.locked():
            current = self.fetch(resource, namespace, name)
            result, warnings = self._write(request, resource, current, desired, subresource)
        return self.respond(request, resource, result, 200, warnings)

    def patch(
        self,
        request: Request,
        resource: ResourceType,
        namespace: str | None,
        name: str,
        subresource: str = "",
    ) -> Response:
        content_type = request.content_type.split(";")[0].strip().lower() or patch.STRATEGIC
        schema = schemas.kind_schema(resource.api_version, resource.kind)
        with self.store.locked():
            try:
                current = self.fetch(resource, namespace, name)
            except ApiError:
                if content_type != patch.APPLY:
                    raise
                body = patch.parse(content_type, request.body)
                obj = self._check_body(resource, body, namespace)
                return self.create_object(request, resource, namespace, obj)
            desired = patch.apply(content_type, copy.deepcopy(current), request.body, schema)
            if desired.get("kind") not in (None, resource.kind):
                raise bad_request("a patch may not change the kind")
            result, warnings = self._write(request, resource, current, desired, subresource)
        return self.respond(request, resource, result, 200, warnings)

    # -- scale subresource ---------------------------------------------------------------
    def _scale(self, obj: Obj) -> Obj:
        meta = obj["metadata"]
        return {
            "kind": "Scale",
            "apiVersion": "autoscaling/v1",
            "metadata": {
                "name": meta["name"],
                "namespace": meta.get("namespace"),
                "uid": meta.get("uid"),
                "resourceVersion": meta.get("resourceVersion"),
                "creationTimestamp": meta.get("creationTimestamp"),
            },
            "spec": {"replicas": (obj.get("spec") or {}).get("replicas", 1)},
            "status": {
                "replicas": (obj.get("status") or {}).get("replicas", 0),
                "selector": selector_string((obj.get("spec") or {}).get("selector")),
            },
        }

    def scale(
        self, request: Request, resource: ResourceType, namespace: str | None, name: str
    ) -> Response:
        with self.store.locked():
            current = self.fetch(resource, namespace, name)
            if request.method == "GET":
                return json_response(self._scale(current))
            scale = self._scale(current)
            if request.method == "PUT":
                body = request.json_body()
                if not isinstance(body, dict):
                    raise bad_request("the body must be a Scale object")
                desired_scale = body
            else:
                content_type = request.content_type.split(";")[0].strip().lower() or patch.STRATEGIC
                desired_scale = patch.apply(content_type, scale, request.body, None)
            replicas = (desired_scale.get("spec") or {}).get("replicas")
            if not isinstance(replicas, int) or replicas < 0:
                raise ApiError(
                    422,
                    "Invalid",
                    f'Scale.autoscaling "{name}" is invalid: spec.replicas: '
                    f"Invalid value: {replicas!r}: must be greater than or equal to 0",
                )
            desired = copy.deepcopy(current)
            desired["spec"]["replicas"] = replicas
            sent_rv = (desired_scale.get("metadata") or {}).get("resourceVersion")
            if sent_rv:
                desired["metadata"]["resourceVersion"] = sent_rv
            result, _ = self._write(request, resource, current, desired, "")
        return json_response(self._scale(result))
