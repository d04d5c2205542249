"""Watch streams: newline-delimited `{"type","object"}` events in resourceVersion order, with
bookmarks, WatchList (`sendInitialEvents` ending in an `initial-events-end` bookmark), Table
events for `kubectl get -w`, and `410 Expired` for versions older than the store's history.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from local_cloud.gke.api.encoding import dumps, served
from local_cloud.gke.api.messages import Request, Response
from local_cloud.gke.api.resources import ResourceType
from local_cloud.gke.api.selectors import object_filter
from local_cloud.gke.api.status import ApiError, bad_request
from local_cloud.gke.api.tables import table
from local_cloud.gke.store import Gone, ObjectStore, Watcher

Obj = dict[str, Any]

BOOKMARK_INTERVAL = 10.0
DEFAULT_TIMEOUT = 1800.0


def _key(obj: Obj) -> tuple[str, str]:
    meta = obj.get("metadata") or {}
    return (meta.get("namespace") or "", meta.get("name") or "")


class WatchStreams:
    """Builds watch responses over the store's ordered events."""

    def __init__(self, store: ObjectStore, stopping: threading.Event) -> None:
        self.store = store
        self.stopping = stopping

    def serve(
        self, request: Request, resource: ResourceType, namespace: str | None, name: str = ""
    ) -> Response:
        field_text = request.param("fieldSelector")
        if name:  # GET …/pods/NAME?watch=true is a watch on one object
            field_text = ",".join(t for t in (field_text, f"metadata.name={name}") if t)
        predicate = object_filter(request.param("labelSelector"), field_text, resource.plural)
        try:
            timeout = float(request.param("timeoutSeconds") or DEFAULT_TIMEOUT)
        except ValueError:
            raise bad_request("timeoutSeconds must be a number") from None
        since_text = request.param("resourceVersion")
        initial = request.flag("sendInitialEvents")
        if initial and request.param("resourceVersionMatch") not in ("", "NotOlderThan"):
            raise bad_request("sendInitialEvents requires resourceVersionMatch=NotOlderThan")
        try:
            since = int(since_text) if since_text else 0
        except ValueError:
            raise bad_request(f"invalid resource version: {since_text!r}") from None
        first: list[tuple[str, Obj]] = []
        with self.store.locked():
            try:
                listed = initial or since == 0
                if listed:
                    objects, rv = self.store.list(resource.plural, namespace, predicate)
                    first = [("ADDED", served(resource.plural, o)) for o in objects]
                    watcher = self.store.watch(resource.plural, namespace, None)
                    since = rv
                else:
                    watcher = self.store.watch(resource.plural, namespace, since)
            except Gone as gone:
                error = ApiError(410, "Expired", str(gone))
                return Response(200, dumps({"type": "ERROR", "object": error.status()}) + b"\n")
        encode = self._encoder(request, resource)
        bookmarks = request.flag("allowWatchBookmarks")
        stream = self._stream(
            watcher,
            first,
            since,
            (initial, listed),
            bookmarks,
            timeout,
            predicate,
            resource,
            encode,
        )
        return Response(200, stream=stream)

    def _encoder(self, request: Request, resource: ResourceType) -> Callable[[str, Obj], bytes]:
        if not request.wants_table:
            return lambda type_, obj: dumps({"type": type_, "object": obj}) + b"\n"
        include = request.param("includeObject", "Metadata")

        def as_table(type_: str, obj: Obj) -> bytes:
            if type_ in ("BOOKMARK", "ERROR"):
                return dumps({"type": type_, "object": obj}) + b"\n"
            rv = str(obj["metadata"].get("resourceVersion", ""))
            return (
                dumps(
                    {
                        "type": type_,
                        "object": table(
                            resource.plural, [obj], self.store.clock.now(), rv, include
                        ),
                    }
                )
                + b"\n"
            )

        return as_table

    def _bookmark(self, resource: ResourceType, rv: int, initial_end: bool) -> Obj:
        meta: Obj = {"resourceVersion": str(rv)}
        if initial_end:
            meta["annotations"] = {"k8s.io/initial-events-end": "true"}
        return {"kind": resource.kind, "apiVersion": resource.api_version, "metadata": meta}

    def _stream(
        self,
        watcher: Watcher,
        first: list[tuple[str, Obj]],
        rv: int,
        start: tuple[bool, bool],  # (sendInitialEvents, started from a full listing)
        bookmarks: bool,
        timeout: float,
        predicate: Callable[[Obj], bool] | None,
        resource: ResourceType,
        encode: Callable[[str, Obj], bytes],
    ) -> Iterator[bytes]:
        deadline = time.monotonic() + timeout
        # Keys the client currently sees through a selector: an object that stops matching
        # leaves the view with DELETED and one that starts matching enters with ADDED, as the
        # real watch cache does.
        initial, complete = start
        visible = {_key(obj) for _, obj in first}
        try:
            for type_, obj in first:
                yield encode(type_, obj)
            if initial:
                yield encode("BOOKMARK", self._bookmark(resource, rv, True))
            last_bookmark = time.monotonic()
            while not self.stopping.is_set():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return
                try:
                    event = watcher.events.get(timeout=min(remaining, 0.5))
                except queue.Empty:
                    if bookmarks and time.monotonic() - last_bookmark > BOOKMARK_INTERVAL:
                        last_bookmark = time.monotonic()
                        yield encode("BOOKMARK", self._bookmark(resource, rv, False))
                    else:
                        yield b""  # idle: lets the server notice a client that went away
                    continue
                rv = event.resource_version
                obj = served(resource.plural, event.object)
                if predicate is None:
                    yield encode(event.type, obj)
                    continue
                key, matches = _key(obj), predicate(event.object)
                if event.type == "DELETED":
                    if matches or key in visible:
                        visible.discard(key)
                        yield encode("DELETED", obj)
                elif matches:
                    type_ = "ADDED" if complete and key not in visible else event.type
                    visible.add(key)
                    yield encode(type_, obj)
                elif key in visible:
                    visible.discard(key)
                    yield encode("DELETED", obj)
        finally:
            self.store.stop_watch(watcher)
