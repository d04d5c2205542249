"""The `pods/log` subresource: container logs from the cluster runtime, with tailLines,
sinceSeconds, timestamps, limitBytes, previous and follow (a chunked stream).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from local_cloud.gke.api.messages import Request, Response
from local_cloud.gke.api.status import ApiError, bad_request
from local_cloud.gke.runtime import ClusterRuntime, LogLine
from local_cloud.gke.store import ObjectStore, StoreError

Obj = dict[str, Any]


def _stamp(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "000Z"


def _int_param(request: Request, name: str) -> int | None:
    if name not in request.query:
        return None
    try:
        return int(request.query[name])
    except ValueError:
        raise bad_request(f"{name} must be an integer") from None


class PodLogs:
    """Serves container logs; without a runtime every container's log is empty."""

    def __init__(
        self, store: ObjectStore, runtime: ClusterRuntime | None, stopping: threading.Event
    ) -> None:
        self.store = store
        self.runtime = runtime
        self.stopping = stopping

    def _container(self, pod: Obj, wanted: str) -> str:
        spec = pod.get("spec") or {}
        names = [str(c.get("name")) for c in spec.get("containers") or []]
        init_names = [str(c.get("name")) for c in spec.get("initContainers") or []]
        name = pod["metadata"]["name"]
        if wanted:
            if wanted not in names + init_names:
                raise bad_request(f"container {wanted} is not valid for pod {name}")
            return wanted
        if len(names) == 1:
            return names[0]
        raise bad_request(
            f"a container name must be specified for pod {name}, choose one of: [{' '.join(names)}]"
            + (f" or one of the init containers: [{' '.join(init_names)}]" if init_names else "")
        )

    def _lines(self, namespace: str, pod: str, container: str, previous: bool) -> list[LogLine]:
        if self.runtime is None:
            if previous:
                raise bad_request(
                    f'previous terminated container "{container}" in pod "{pod}" not found'
                )
            return []
        try:
            return self.runtime.container_logs(namespace, pod, container, previous=previous)
        except KeyError:
            if previous:
                raise bad_request(
                    f'previous terminated container "{container}" in pod "{pod}" not found'
                ) from None
            raise bad_request(
                f'container "{container}" in pod "{pod}" is waiting to start'
            ) from None

    def serve(self, request: Request, namespace: str, name: str) -> Response:
        try:
            pod = self.store.get("pods", namespace, name)
        except StoreError:
            raise ApiError(
                404, "NotFound", f'pods "{name}" not found', {"name": name, "kind": "pods"}
            ) from None
        container = self._container(pod, request.param("container"))
        previous = request.flag("previous")
        tail = _int_param(request, "tailLines")
        since = _int_param(request, "sinceSeconds")
        limit = _int_param(request, "limitBytes")
        stamps = request.flag("timestamps")
        lines = self._lines(namespace, name, container, previous)
        if since is not None:
            cutoff = self.store.clock.now() - since
            lines = [line for line in lines if line.timestamp >= cutoff]
        if tail is not None and tail >= 0:
            lines = lines[-tail:] if tail else []

        def render(batch: list[LogLine]) -> bytes:
            text = "".join(
                (f"{_stamp(line.timestamp)} " if stamps else "") + line.text.rstrip("\n") + "\n"
                for line in batch
            )
            return text.encode()

        if not request.flag("follow") or previous:
            body = render(lines)
            return Response(200, body[:limit] if limit else body, "text/plain")
        return Response(
            200,
            content_type="text/plain",
            stream=self._follow(namespace, name, container, lines, render),
        )

    def _follow(
        self, namespace: str, name: str, container: str, first: list[LogLine], render: Any
    ) -> Iterator[bytes]:
        yield render(first)
        seen = {(line.timestamp, line.text) for line in first}
        last = max((line.timestamp for line in first), default=float("-inf"))
        while not self.stopping.wait(0.2):
            try:
                pod = self.store.get("pods", namespace, name)
            except StoreError:
                return
            try:
                lines = self._lines(namespace, name, container, False)
            except ApiError:
                lines = []
            fresh = [
                line
                for line in lines
                if line.timestamp >= last and (line.timestamp, line.text) not in seen
            ]
            if fresh:
                yield render(fresh)
                last = max(line.timestamp for line in fresh)
                seen = {(line.timestamp, line.text) for line in lines if line.timestamp >= last}
            statuses = (pod.get("status") or {}).get("containerStatuses") or []
            mine: Obj = next((s for s in statuses if s.get("name") == container), {})
            if pod.get("status", {}).get("phase") in ("Succeeded", "Failed") or (
                mine.get("state") or {}
            ).get("terminated"):
                return
