"""`KubernetesGateway`: `ClusterApi` over the official client (v30), with server-side dry runs
and retries with exponential back-off on 5xx, timeouts and 409 conflicts."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import urllib3
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from self_healing_service.kube import (
    Eviction,
    Json,
    KubeError,
    PermanentKubeError,
    TemporaryKubeError,
)

log = logging.getLogger(__name__)
T = TypeVar("T")
RETRIED = frozenset({409, 500, 502, 503, 504})


def api_client(kubeconfig: Path | None) -> client.ApiClient:
    """A client from a kubeconfig file, in-cluster config, or the default kubeconfig."""
    if kubeconfig is not None:
        return config.new_client_from_config(config_file=str(kubeconfig))
    try:
        config.load_incluster_config()
        return client.ApiClient()
    except config.ConfigException:
        return config.new_client_from_config()


class KubernetesGateway:
    """Every call returns plain JSON (no model deserialisation, so unknown fields survive)."""

    def __init__(
        self,
        api: client.ApiClient,
        attempts: int = 4,
        backoff: float = 0.2,
        timeout: float = 5.0,
        sleep: Callable[[float], None] = time.sleep,
        on_retry: Callable[[str, int], None] | None = None,
    ) -> None:
        self.api = api
        self.core = client.CoreV1Api(api)
        self.apps = client.AppsV1Api(api)
        self.autoscaling = client.AutoscalingV2Api(api)
        self.custom = client.CustomObjectsApi(api)
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self.timeout = timeout
        self.sleep = sleep
        self.on_retry = on_retry

    def close(self) -> None:
        self.api.close()

    def _call(self, what: str, call: Callable[[], T]) -> T:
        delay = self.backoff
        for attempt in range(1, self.attempts + 1):
            try:
                return call()
            except ApiException as error:
                status = int(error.status or 0)
                if status not in RETRIED:
                    raise PermanentKubeError(f"{what}: {status} {_reason(error)}", status) from None
                failure: KubeError = TemporaryKubeError(
                    f"{what}: {status} {_reason(error)}", status
                )
            except (urllib3.exceptions.HTTPError, OSError) as error:
                failure = TemporaryKubeError(f"{what}: {type(error).__name__}", 0)
            if attempt == self.attempts:
                raise failure
            if self.on_retry is not None:
                self.on_retry(what, failure.status)
            log.warning("retrying %s after %s (attempt %d)", what, failure, attempt)
            self.sleep(delay)
            delay *= 2
        raise AssertionError("unreachable")

    def _json(self, what: str, call: Callable[..., Any], *args: Any, **kwargs: Any) -> Json:
        def run() -> Json:
            response = call(*args, _preload_content=False, _request_timeout=self.timeout, **kwargs)
            data = response.data
            return json.loads(data) if data else {}

        return self._call(what, run)

    def _optional(self, what: str, call: Callable[..., Any], *args: Any) -> Json | None:
        try:
            return self._json(what, call, *args)
        except PermanentKubeError as error:
            if error.status == 404:
                return None
            raise

    def read_deployment(self, namespace: str, name: str) -> Json | None:
        return self._optional(
            f"get deployment {namespace}/{name}",
            self.apps.read_namespaced_deployment,
            name,
            namespace,
        )

    def list_replicasets(self, namespace: str, selector: str) -> list[Json]:
        found = self._json(
            "list replicasets",
            self.apps.list_namespaced_replica_set,
            namespace,
            label_selector=selector,
        )
        return list(found.get("items") or [])

    def list_pods(
        self, namespace: str = "", selector: str = "", field_selector: str = ""
    ) -> list[Json]:
        kwargs = {"label_selector": selector, "field_selector": field_selector}
        kwargs = {k: v for k, v in kwargs.items() if v}
        if namespace:
            found = self._json("list pods", self.core.list_namespaced_pod, namespace, **kwargs)
        else:
            found = self._json("list pods", self.core.list_pod_for_all_namespaces, **kwargs)
        return list(found.get("items") or [])

    def list_events(self, namespace: str, field_selector: str = "") -> list[Json]:
        kwargs = {"field_selector": field_selector} if field_selector else {}
        found = self._json("list events", self.core.list_namespaced_event, namespace, **kwargs)
        return list(found.get("items") or [])

    def pod_log(self, namespace: str, pod: str, tail: int = 20, previous: bool = False) -> str:
        def run() -> str:
            response = self.core.read_namespaced_pod_log(
                pod,
                namespace,
                tail_lines=tail,
                previous=previous,
                _preload_content=False,
                _request_timeout=self.timeout,
            )
            return bytes(response.data).decode("utf-8", "replace")

        try:
            return self._call(f"log {namespace}/{pod}", run)
        except PermanentKubeError:
            return ""

    def list_hpas(self, namespace: str) -> list[Json]:
        found = self._json(
            "list hpas", self.autoscaling.list_namespaced_horizontal_pod_autoscaler, namespace
        )
        return list(found.get("items") or [])

    def list_pod_metrics(self, namespace: str, selector: str) -> list[Json] | None:
        try:
            found = self._json(
                "list pod metrics",
                self.custom.list_namespaced_custom_object,
                "metrics.k8s.io",
                "v1beta1",
                namespace,
                "pods",
                label_selector=selector,
            )
        except PermanentKubeError:
            return None  # no metrics server (404) or no permission for it: judge without
        return list(found.get("items") or [])

    def read_node(self, name: str) -> Json | None:
        return self._optional(f"get node {name}", self.core.read_node, name)

    def list_nodes(self, selector: str = "") -> list[Json]:
        kwargs = {"label_selector": selector} if selector else {}
        return list(self._json("list nodes", self.core.list_node, **kwargs).get("items") or [])

    def patch_deployment(
        self, namespace: str, name: str, body: Json | list[Json], dry_run: bool
    ) -> Json:
        kwargs: dict[str, Any] = {"field_manager": "gke-heal"}
        if dry_run:
            kwargs["dry_run"] = "All"
        return self._json(
            f"patch deployment {namespace}/{name}",
            self.apps.patch_namespaced_deployment,
            name,
            namespace,
            body,
            **kwargs,
        )

    def delete_pod(self, namespace: str, name: str, uid: str, dry_run: bool) -> None:
        body = client.V1DeleteOptions(
            preconditions=client.V1Preconditions(uid=uid) if uid else None
        )
        kwargs: dict[str, Any] = {"body": body}
        if dry_run:
            kwargs["dry_run"] = "All"
        try:
            self._json(
                f"delete pod {namespace}/{name}",
                self.core.delete_namespaced_pod,
                name,
                namespace,
                **kwargs,
            )
        except PermanentKubeError as error:
            if error.status != 404:  # already gone is what we wanted
                raise

    def evict_pod(self, namespace: str, name: str, dry_run: bool) -> Eviction:
        body = client.V1Eviction(
            metadata=client.V1ObjectMeta(name=name, namespace=namespace),
            delete_options=client.V1DeleteOptions(dry_run=["All"] if dry_run else None),
        )
        kwargs: dict[str, Any] = {"dry_run": "All"} if dry_run else {}
        try:
            self._json(
                f"evict pod {namespace}/{name}",
                self.core.create_namespaced_pod_eviction,
                name,
                namespace,
                body,
                **kwargs,
            )
        except PermanentKubeError as error:
            if error.status == 404:
                return "gone"
            if error.status == 429:  # a PodDisruptionBudget says not now
                return "blocked"
            raise
        return "evicted"

    def patch_node(self, name: str, body: Json, dry_run: bool) -> Json:
        kwargs: dict[str, Any] = {"field_manager": "gke-heal"}
        if dry_run:
            kwargs["dry_run"] = "All"
        return self._json(f"patch node {name}", self.core.patch_node, name, body, **kwargs)


def _reason(error: ApiException) -> str:
    try:
        body = json.loads(error.body or "{}")
        return str(body.get("message") or body.get("reason") or error.reason)
    except (ValueError, AttributeError):
        return str(error.reason)
