"""Deletion as a real API server does it: DeleteOptions, graceful pod termination through the
cluster runtime, finalizers, owner-reference cascading (Background, Foreground, Orphan), and
namespace teardown.
"""

from __future__ import annotations

from typing import Any

from local_cloud.clock import rfc3339
from local_cloud.gke.api.encoding import served
from local_cloud.gke.api.messages import Request, Response, json_response
from local_cloud.gke.api.resources import RESOURCES, ResourceType
from local_cloud.gke.api.rest import ResourceRest
from local_cloud.gke.api.selectors import object_filter
from local_cloud.gke.api.status import ApiError, bad_request, conflict, success
from local_cloud.gke.runtime import ClusterRuntime
from local_cloud.gke.store import StoreError

Obj = dict[str, Any]

PROTECTED_NAMESPACES = {"default", "kube-system", "kube-public", "kube-node-lease"}


def delete_options(request: Request) -> Obj:
    """DeleteOptions from the body (kubectl, client) or the query string."""
    body = request.json_body(required=False) if request.body.strip() else None
    options: Obj = dict(body) if isinstance(body, dict) else {}
    if "gracePeriodSeconds" in request.query:
        try:
            options["gracePeriodSeconds"] = int(request.query["gracePeriodSeconds"])
        except ValueError:
            raise bad_request("gracePeriodSeconds must be an integer") from None
    if "propagationPolicy" in request.query:
        options["propagationPolicy"] = request.query["propagationPolicy"]
    if request.query.get("orphanDependents") == "true":
        options["propagationPolicy"] = "Orphan"
    policy = options.get("propagationPolicy") or "Background"
    if policy not in ("Background", "Foreground", "Orphan"):
        raise bad_request(
            f"propagationPolicy {policy!r} is not one of Background, Foreground, Orphan"
        )
    options["propagationPolicy"] = policy
    return options


def _drop_foreground(obj: Obj) -> None:
    finalizers = [f for f in obj["metadata"].get("finalizers") or [] if f != "foregroundDeletion"]
    if finalizers:
        obj["metadata"]["finalizers"] = finalizers
    else:
        obj["metadata"].pop("finalizers", None)


class Deleter:
    """Deletes objects and their dependents; pods terminate gracefully when a runtime runs them."""

    def __init__(self, rest: ResourceRest, runtime: ClusterRuntime | None) -> None:
        self.rest = rest
        self.store = rest.store
        self.runtime = runtime

    def delete(
        self, request: Request, resource: ResourceType, namespace: str | None, name: str
    ) -> Response:
        options = delete_options(request)
        current = self.rest.fetch(resource, namespace, name)
        self._check_preconditions(resource, current, options)
        if resource.plural == "namespaces" and name in PROTECTED_NAMESPACES:
            raise ApiError(
                403,
                "Forbidden",
                f'namespaces "{name}" is forbidden: this namespace may not be deleted',
                {"name": name, "kind": "namespaces"},
            )
        if request.dry_run:
            return json_response(current)
        result = self.delete_object(resource, current, options)
        if resource.plural in ("pods", "namespaces") or result.get("metadata", {}).get(
            "deletionTimestamp"
        ):
            return json_response(result)
        meta = current["metadata"]
        details = {"name": name, "kind": resource.plural, "uid": meta.get("uid")}
        if resource.group:
            details["group"] = resource.group
        return json_response(success(200, details))

    def delete_collection(
        self, request: Request, resource: ResourceType, namespace: str | None
    ) -> Response:
        options = delete_options(request)
        predicate = object_filter(
            request.param("labelSelector"), request.param("fieldSelector"), resource.plural
        )
        items, rv = self.store.list(resource.plural, namespace, predicate)
        if not request.dry_run:
            for obj in items:
                self.delete_object(resource, served(resource.plural, obj), options)
        return json_response(
            {
                "kind": resource.kind + "List",
                "apiVersion": resource.api_version,
                "metadata": {"resourceVersion": str(rv)},
                "items": [served(resource.plural, o) for o in items],
            }
        )

    def _check_preconditions(self, resource: ResourceType, current: Obj, options: Obj) -> None:
        pre = options.get("preconditions") or {}
        meta = current["metadata"]
        if pre.get("uid") and pre["uid"] != meta.get("uid"):
            raise ApiError(
                409,
                "Conflict",
                f"Precondition failed: UID in precondition: {pre['uid']}, UID in object meta: {meta.get('uid')}",
            )
        if pre.get("resourceVersion") and pre["resourceVersion"] != meta.get("resourceVersion"):
            raise conflict(resource.plural, resource.group, meta["name"])

    # -- the work ------------------------------------------------------------------------
    def delete_object(self, resource: ResourceType, obj: Obj, options: Obj) -> Obj:
        """Delete one object (and dependents); returns its last state or its terminating state."""
        meta = obj["metadata"]
        namespace, name = meta.get("namespace"), meta["name"]
        policy = options.get("propagationPolicy", "Background")
        if resource.plural == "namespaces":
            return self._delete_namespace(obj)
        if resource.plural == "pods":
            return self._delete_pod(obj, options)
        if policy == "Orphan":
            self._orphan(meta.get("uid"), namespace)
        elif policy == "Foreground":
            # The owner is marked as being deleted first, so controllers leave it alone (and do
            # not recreate its dependents) while the dependents go.
            self._mark_deleting(resource, namespace, name, finalizer="foregroundDeletion")
            self._cascade(meta.get("uid"), namespace, options)
            try:
                self.store.mutate(resource.plural, namespace, name, _drop_foreground)
                meta = self.store.get(resource.plural, namespace, name)["metadata"]
            except StoreError:
                return obj
        if meta.get("finalizers"):
            return self._mark_deleting(resource, namespace, name)
        try:
            deleted = self.store.delete(resource.plural, namespace, name)
        except StoreError:
            return obj
        if policy == "Background":
            self._cascade(meta.get("uid"), namespace, options)
        return served(resource.plural, deleted)

    def _mark_deleting(
        self,
        resource: ResourceType,
        namespace: str | None,
        name: str,
        grace: int = 0,
        finalizer: str = "",
    ) -> Obj:
        stamp = rfc3339(self.store.clock.now())

        def mark(obj: Obj) -> None:
            obj["metadata"].setdefault("deletionTimestamp", stamp)
            obj["metadata"].setdefault("deletionGracePeriodSeconds", grace)
            if finalizer and finalizer not in obj["metadata"].get("finalizers", []):
                obj["metadata"].setdefault("finalizers", []).append(finalizer)

        return served(resource.plural, self.store.mutate(resource.plural, namespace, name, mark))

    def _delete_pod(self, pod: Obj, options: Obj) -> Obj:
        meta, spec = pod["metadata"], pod.get("spec") or {}
        namespace, name = meta.get("namespace"), meta["name"]
        grace = options.get("gracePeriodSeconds")
        if grace is None:
            grace = int(spec.get("terminationGracePeriodSeconds", 30))
        pods = next(r for r in RESOURCES if r.plural == "pods" and r.stored)
        if meta.get("finalizers"):
            return self._mark_deleting(pods, namespace, name, grace)
        if meta.get("deletionTimestamp") and grace > 0:
            return pod  # already terminating; a second delete does not restart the clock
        runtime = self.runtime
        if (
            runtime is not None
            and grace > 0
            and spec.get("nodeName")
            and runtime.graceful_delete(namespace or "", name, grace)
        ):
            try:
                return served("pods", self.store.get("pods", namespace, name))
            except StoreError:
                return pod
        try:
            return served("pods", self.store.delete("pods", namespace, name))
        except StoreError:
            return pod

    def _dependents(self, uid: str | None, namespace: str | None) -> list[tuple[ResourceType, Obj]]:
        if not uid:
            return []
        found: list[tuple[ResourceType, Obj]] = []
        with self.store.locked():
            for resource in RESOURCES:
                if not resource.stored or resource.plural == "namespaces":
                    continue
                for obj in self.store.peek(resource.plural):
                    owners = (obj.get("metadata") or {}).get("ownerReferences") or []
                    if any(o.get("uid") == uid for o in owners) and (
                        namespace is None or obj["metadata"].get("namespace") == namespace
                    ):
                        found.append((resource, served(resource.plural, obj)))
        return found

    def _cascade(self, uid: str | None, namespace: str | None, options: Obj) -> None:
        child_options = {"propagationPolicy": options.get("propagationPolicy", "Background")}
        for resource, child in self._dependents(uid, namespace):
            self.delete_object(resource, child, child_options)

    def _orphan(self, uid: str | None, namespace: str | None) -> None:
        for resource, child in self._dependents(uid, namespace):

            def drop(obj: Obj) -> None:
                refs = [
                    o for o in obj["metadata"].get("ownerReferences") or [] if o.get("uid") != uid
                ]
                if refs:
                    obj["metadata"]["ownerReferences"] = refs
                else:
                    obj["metadata"].pop("ownerReferences", None)

            try:
                self.store.mutate(
                    resource.plural,
                    child["metadata"].get("namespace"),
                    child["metadata"]["name"],
                    drop,
                )
            except StoreError:
                continue

    def _delete_namespace(self, namespace_obj: Obj) -> Obj:
        name = namespace_obj["metadata"]["name"]
        for resource in RESOURCES:
            if resource.stored and resource.namespaced:
                items, _ = self.store.list(resource.plural, name)
                for obj in items:
                    try:
                        self.store.delete(resource.plural, name, obj["metadata"]["name"])
                    except StoreError:
                        continue
        try:
            deleted = self.store.delete("namespaces", None, name)
        except StoreError:
            return namespace_obj
        deleted.setdefault("status", {})["phase"] = "Terminating"
        return served("namespaces", deleted)
