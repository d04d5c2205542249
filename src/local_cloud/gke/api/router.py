"""Maps each request to the piece of the API that answers it: discovery, OpenAPI, resources,
subresources and metrics, after authentication and RBAC; every failure becomes a `Status`.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from local_cloud.clock import rfc3339
from local_cloud.gke.api import discovery, openapi, protobuf
from local_cloud.gke.api.deletion import Deleter
from local_cloud.gke.api.encoding import ObjectEncoder
from local_cloud.gke.api.eviction import Evictions
from local_cloud.gke.api.messages import Request, Response, error_response, json_response
from local_cloud.gke.api.metrics import MetricsApi
from local_cloud.gke.api.podlogs import PodLogs
from local_cloud.gke.api.resources import ResourceType, find
from local_cloud.gke.api.rest import ResourceRest
from local_cloud.gke.api.status import ApiError, bad_request, method_not_allowed, success
from local_cloud.gke.api.watch import WatchStreams
from local_cloud.gke.rbac import Rbac
from local_cloud.gke.runtime import ClusterRuntime
from local_cloud.gke.store import ObjectStore, StoreError

Obj = dict[str, Any]
log = logging.getLogger(__name__)

# What a real server shows even to anonymous callers (system:public-info-viewer).
_PUBLIC = {"/healthz", "/livez", "/readyz", "/version"}
_VERBS = {"POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}


def _not_found_path() -> ApiError:
    return ApiError(404, "NotFound", "the server could not find the requested resource", {})


class ApiRouter:
    """Answers one `Request` with one `Response`."""

    def __init__(
        self,
        store: ObjectStore,
        runtime: ClusterRuntime | None,
        rbac: Rbac | None,
        stopping: threading.Event,
    ) -> None:
        self.store = store
        self.runtime = runtime
        self.rbac = rbac
        self.address = ""
        self.rest = ResourceRest(store, ObjectEncoder(store))
        self.deleter = Deleter(self.rest, runtime)
        self.evictions = Evictions(self.deleter)
        self.logs = PodLogs(store, runtime, stopping)
        self.metrics = MetricsApi(store, runtime)
        self.watches = WatchStreams(store, stopping)

    def handle(self, request: Request) -> Response:
        try:
            self._authenticate(request)
            return self._route(request)
        except ApiError as error:
            return error_response(error)
        except StoreError as error:
            return error_response(ApiError(error.code, error.reason, str(error)))
        except Exception as error:  # a bug must still answer as a Status, never a dropped socket
            log.exception("internal error serving %s %s", request.method, request.path)
            return error_response(
                ApiError(500, "InternalError", f"Internal error occurred: {error}")
            )

    # -- security ------------------------------------------------------------------------
    def _authenticate(self, request: Request) -> None:
        if self.rbac is None or request.path in _PUBLIC:
            return
        auth = request.headers.get("authorization", "")
        token = auth[7:].strip() if auth.lower().startswith("bearer ") else None
        user = self.rbac.authenticate(token)
        if user is None:
            raise ApiError(401, "Unauthorized", "Unauthorized")
        request.user = user

    def _authorize(
        self,
        request: Request,
        verb: str,
        resource: ResourceType,
        namespace: str | None,
        name: str,
        subresource: str,
    ) -> None:
        if self.rbac is None:
            return
        target = f"{resource.plural}/{subresource}" if subresource else resource.plural
        if self.rbac.authorize(request.user, verb, resource.group, target, namespace, name):
            return
        where = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
        named = f'{target} "{name}"' if name else target
        raise ApiError(
            403,
            "Forbidden",
            f'{named} is forbidden: User "{request.user}" cannot {verb} resource "{target}" in API '
            f'group "{resource.group}" {where}',
            {"name": name, "group": resource.group, "kind": resource.plural}
            if name
            else {"group": resource.group, "kind": resource.plural},
        )

    # -- routing -------------------------------------------------------------------------
    def _route(self, request: Request) -> Response:
        path = request.path.rstrip("/") or "/"
        parts = [p for p in path.split("/") if p]
        if path in ("/healthz", "/livez", "/readyz"):
            return Response(200, b"ok", "text/plain")
        if path == "/version":
            return json_response(discovery.VERSION)
        if parts[:1] == ["openapi"]:
            return self._openapi(parts)
        if parts[:1] == ["api"]:
            if len(parts) == 1:
                return self._discovery(request, core=True)
            if parts[1] != "v1":
                raise _not_found_path()
            return self._resources(request, "", "v1", parts[2:])
        if parts[:1] == ["apis"]:
            if len(parts) == 1:
                return self._discovery(request, core=False)
            if len(parts) == 2:
                group = discovery.api_group(parts[1])
                if group is None:
                    raise _not_found_path()
                return json_response(group)
            return self._resources(request, parts[1], parts[2], parts[3:])
        raise _not_found_path()

    def _openapi(self, parts: list[str]) -> Response:
        if parts == ["openapi", "v3"]:
            return Response(200, openapi.index())
        if parts[:2] == ["openapi", "v3"]:
            document = openapi.group_version_document("/".join(parts[2:]))
            if document is not None:
                return Response(200, document, headers={"Cache-Control": "public, immutable"})
        raise _not_found_path()

    def _discovery(self, request: Request, core: bool) -> Response:
        aggregated = discovery.aggregated_type(request.accept)
        if aggregated is not None:
            response = json_response(discovery.aggregated(core, aggregated))
            response.content_type = aggregated
            return response
        return json_response(
            discovery.api_versions(self.address) if core else discovery.api_group_list()
        )

    def _resources(self, request: Request, group: str, version: str, rest: list[str]) -> Response:
        if not rest:
            listing = discovery.resource_list(group, version)
            if listing is None:
                raise _not_found_path()
            return json_response(listing)
        namespace: str | None = None
        if (
            rest[0] == "namespaces"
            and len(rest) >= 3
            and not (group == "" and len(rest) == 3 and rest[2] in ("status", "finalize"))
        ):
            namespace, rest = rest[1], rest[2:]
        if (
            group == ""
            and namespace is not None
            and rest == ["bindings"]
            and request.method == "POST"
        ):
            body = request.json_body()
            return self._bind(
                request, namespace, str(((body or {}).get("metadata") or {}).get("name", "")), body
            )
        if len(rest) > 3:
            raise _not_found_path()
        plural, name = rest[0], rest[1] if len(rest) > 1 else ""
        subresource = rest[2] if len(rest) > 2 else ""
        resource = find(group, version, plural)
        if resource is None or (namespace is not None and not resource.namespaced):
            raise _not_found_path()
        if subresource and resource.subresource(subresource) is None:
            raise _not_found_path()
        if resource.namespaced and name and namespace is None:
            raise _not_found_path()
        verb = _VERBS.get(request.method, "get")
        if request.method == "GET":
            verb = "get" if name else ("watch" if request.flag("watch") else "list")
        elif request.method == "DELETE" and not name:
            verb = "deletecollection"
        if resource.plural == "selfsubjectaccessreviews":  # every user may ask about itself
            if request.method != "POST" or name:
                raise method_not_allowed()
            return self._review(request)
        self._authorize(request, verb, resource, namespace, name, subresource)
        if not resource.stored:
            if request.method != "GET":
                raise method_not_allowed()
            return self.metrics.serve(request, resource.plural, namespace, name)
        return self._dispatch(request, resource, namespace, name, subresource)

    def _dispatch(
        self,
        request: Request,
        resource: ResourceType,
        namespace: str | None,
        name: str,
        subresource: str,
    ) -> Response:
        method = request.method
        if subresource == "log" and method == "GET":
            return self.logs.serve(request, namespace or "", name)
        if subresource == "eviction" and method == "POST":
            return self.evictions.evict(request, resource, namespace or "", name)
        if subresource == "binding" and method == "POST":
            return self._bind(request, namespace or "", name, request.json_body())
        if subresource == "scale" and method in ("GET", "PUT", "PATCH"):
            return self.rest.scale(request, resource, namespace, name)
        if subresource not in ("", "status", "finalize"):
            raise method_not_allowed()
        if method == "GET":
            if not name:
                if request.flag("watch"):
                    return self.watches.serve(request, resource, namespace)
                return self.rest.list_objects(request, resource, namespace)
            if request.flag("watch"):
                return self.watches.serve(request, resource, namespace, name)
            return self.rest.get(request, resource, namespace, name)
        if method == "POST" and not name:
            return self.rest.create(request, resource, namespace)
        if method == "PUT" and name:
            return self.rest.replace(
                request, resource, namespace, name, "status" if subresource == "status" else ""
            )
        if method == "PATCH" and name:
            return self.rest.patch(
                request, resource, namespace, name, "status" if subresource == "status" else ""
            )
        if method == "DELETE" and not subresource:
            if name:
                return self.deleter.delete(request, resource, namespace, name)
            return self.deleter.delete_collection(request, resource, namespace)
        raise method_not_allowed()

    def _review(self, request: Request) -> Response:
        """`SelfSubjectAccessReview` (`kubectl auth can-i`): may the caller do this?"""
        if request.content_type.startswith(protobuf.PROTOBUF):  # what kubectl sends
            body: Any = protobuf.self_subject_access_review(request.body)
        else:
            body = request.json_body()
        spec = (body or {}).get("spec") or {} if isinstance(body, dict) else {}
        attributes = spec.get("resourceAttributes")
        if not isinstance(attributes, dict):
            raise ApiError(
                422,
                "Invalid",
                "SelfSubjectAccessReview.authorization.k8s.io is invalid: spec.resourceAttributes: "
                "Required value (non-resource URLs are always allowed here)",
            )
        resource = str(attributes.get("resource") or "")
        if attributes.get("subresource"):
            resource += "/" + str(attributes["subresource"])
        allowed = self.rbac is None or self.rbac.authorize(
            request.user,
            str(attributes.get("verb") or ""),
            str(attributes.get("group") or ""),
            resource,
            attributes.get("namespace") or None,
            str(attributes.get("name") or ""),
        )
        status: Obj = {"allowed": allowed}  # like RBAC: no reason when nothing allows it
        review = {
            "kind": "SelfSubjectAccessReview",
            "apiVersion": "authorization.k8s.io/v1",
            "metadata": {"creationTimestamp": None},
            "spec": spec,
            "status": status,
        }
        return json_response(review, 201)

    def _bind(self, request: Request, namespace: str, name: str, body: Any) -> Response:
        """`pods/binding`: what a scheduler posts to put a pod on a node."""
        target = (body or {}).get("target") or {} if isinstance(body, dict) else {}
        node = target.get("name")
        if not node:
            raise ApiError(
                422, "Invalid", f'Binding "{name}" is invalid: target.name: Required value'
            )
        pods = find("", "v1", "pods")
        assert pods is not None
        with self.store.locked():
            pod = self.rest.fetch(pods, namespace, name)
            assigned = (pod.get("spec") or {}).get("nodeName")
            if assigned:
                raise ApiError(
                    409,
                    "Conflict",
                    f'Operation cannot be fulfilled on pods/binding "{name}": pod {name} is already '
                    f'assigned to node "{assigned}"',
                )
            if request.dry_run:
                return json_response(success(201), 201)
            stamp = rfc3339(self.store.clock.now())

            def assign(obj: Obj) -> None:
                obj["spec"]["nodeName"] = node
                conditions = [
                    c
                    for c in obj.setdefault("status", {}).get("conditions") or []
                    if c.get("type") != "PodScheduled"
                ]
                conditions.append(
                    {
                        "type": "PodScheduled",
                        "status": "True",
                        "lastProbeTime": None,
                        "lastTransitionTime": stamp,
                    }
                )
                obj["status"]["conditions"] = conditions

            self.store.mutate("pods", namespace, name, assign)
        return json_response(success(201), 201)


__all__ = ["ApiRouter", "bad_request"]
