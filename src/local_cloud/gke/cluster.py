"""The simulated GKE cluster: store + controllers + kubelets + workload model + telemetry.

`Cluster` implements `ClusterRuntime` for the API server. It is a discrete-event simulation:
store changes (from the API or from controllers) are reconciled at once, and everything timed
(container starts and crashes, probes, heartbeats, evictions, deadlines, telemetry) sits in a
timer heap, so `step()` on a `ManualClock` jumps from one due moment to the next and an hour of
a 500-pod cluster takes seconds. `start()` runs the same loop in a thread on any clock.
"""

from __future__ import annotations

import contextlib
import gc
import json
import random
import threading
from collections import deque
from collections.abc import Iterator
from typing import Any

from local_cloud.clock import Clock, ManualClock, rfc3339
from local_cloud.gke.agent import TelemetryAgent
from local_cloud.gke.chaos import FaultBook
from local_cloud.gke.containers import ContainerState, PodState, pod_status
from local_cloud.gke.controllers import Context
from local_cloud.gke.controllers.autoscaler import PERIOD as AUTOSCALER_PERIOD
from local_cloud.gke.controllers.autoscaler import Autoscaler
from local_cloud.gke.controllers.deployment import DeploymentController
from local_cloud.gke.controllers.disruption import DisruptionController
from local_cloud.gke.controllers.garbage import GarbageCollector
from local_cloud.gke.controllers.nodelifecycle import NodeLifecycleController
from local_cloud.gke.controllers.replicaset import ReplicaSetController
from local_cloud.gke.controllers.scheduler import Scheduler
from local_cloud.gke.events import EventRecorder
from local_cloud.gke.faults import FAULT_ANNOTATION, FAULTS, PARAMS_ANNOTATION, Effect
from local_cloud.gke.kubelet import Kubelet
from local_cloud.gke.nodes import NodePool, internal_ip, node_object
from local_cloud.gke.objects import controller_of, is_terminating
from local_cloud.gke.prometheus import render as render_exposition
from local_cloud.gke.reconcile import run_timer, settle
from local_cloud.gke.runtime import LogLine, Usage
from local_cloud.gke.store import NotFound, ObjectStore, WatchEvent
from local_cloud.gke.telemetry import ClusterIdentity, TelemetrySink, event_entry
from local_cloud.gke.timers import Timers
from local_cloud.gke.view import ClusterView, key_of

Obj = dict[str, Any]
Key = tuple[str, str]
WATCHED = ("namespaces", "nodes", "pods", "deployments", "replicasets", "poddisruptionbudgets",
           "horizontalpodautoscalers")  # fmt: skip
NODE_MONITOR_PERIOD = 5.0
SCHEDULER_RETRY = 30.0
GC_PERIOD = 120.0
EVENT_EXPIRY_PERIOD = 600.0


@contextlib.contextmanager
def _long_lived_objects_frozen() -> Iterator[None]:
    """Keep the cyclic GC off the store's large, long-lived object graph while simulating.

    Telemetry allocates millions of short-lived dicts; every full collection would otherwise
    traverse the whole store and its watch history, which costs more than the simulation
    itself. Objects are still freed by reference counting; unfreezing at the end hands the
    rest back to the collector.
    """
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


class Cluster:
    """A running cluster behind an `ObjectStore`; see the module docstring.

    >>> cluster = Cluster(clock=ManualClock(), seed=7, sink=MemorySink())  # doctest: +SKIP
    >>> build_demo(cluster)                          # node pools + the shop  # doctest: +SKIP
    >>> cluster.inject("memory_leak", "shop", "cart", {"minutes_to_oom": 5})  # doctest: +SKIP
    >>> cluster.step(600)                            # ten simulated minutes  # doctest: +SKIP

    With a `ScaledClock` (or `RealClock`) call `start()` and `stop()` instead of `step()`, and
    hand the cluster to `ApiServer(cluster.store, runtime=cluster)`.
    """

    def __init__(
        self,
        store: ObjectStore | None = None,
        clock: Clock | None = None,
        *,
        seed: int = 7,
        sink: TelemetrySink | None = None,
        identity: ClusterIdentity | None = None,
        telemetry_interval: float = 10.0,
        node_status_interval: float = 60.0,
    ) -> None:
        self.clock: Clock = clock or (store.clock if store is not None else ManualClock())
        self.store = store or ObjectStore(self.clock)
        self.store.clock = self.clock
        self.identity = identity or ClusterIdentity()
        self.sink = sink
        self.seed = seed
        self.telemetry_interval = telemetry_interval
        self.node_status_interval = node_status_interval
        self.view = ClusterView()
        self.kubelets: dict[str, Kubelet] = {}
        self.faults = FaultBook(self.store)
        self._rng = random.Random(seed)
        self._event_logs: list[Obj] = []
        self.recorder = EventRecorder(self.store, random.Random(seed + 1), self._event_to_log)
        ctx = Context(self.store, self.view, self.recorder, self._rng, self._delete_pod)
        self._deployments = DeploymentController(ctx)
        self._replicasets = ReplicaSetController(ctx)
        self._scheduler = Scheduler(ctx)
        self._lifecycle = NodeLifecycleController(ctx, self._mark_pods_not_ready)
        self._disruption = DisruptionController(ctx)
        self._gc = GarbageCollector(ctx)
        self._autoscaler = Autoscaler(ctx, self.pod_usage)
        self.agent = TelemetryAgent(self.identity, seed + 2)
        self._timers = Timers()
        self._queue: deque[WatchEvent] = deque()
        self._wake = threading.Event()
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pod_node: dict[Key, str] = {}
        self._died_at: dict[str, float] = {}
        self._dirty_rs: set[Key] = set()
        self._dirty_deployments: set[Key] = set()
        self._dirty_pdb_namespaces: set[str] = set()
        self._need_schedule = False
        self._need_gc = False
        self._pod_usage: dict[Key, dict[str, Usage]] = {}
        self._node_usage: dict[str, Usage] = {}
        self._node_seq = 0
        with self.store.locked():
            for resource in WATCHED:
                for obj in self.store.list(resource)[0]:
                    event = WatchEvent("ADDED", resource, obj, self.store.resource_version)
                    self.view.apply(event)
                    self._queue.append(event)
            self.store.add_listener(self._on_change)
        now = self.clock.now()
        for key, period in ((("telemetry",), telemetry_interval), (("nodes",), NODE_MONITOR_PERIOD),
                            (("node-status",), node_status_interval), (("scheduler",), SCHEDULER_RETRY),
                            (("gc",), GC_PERIOD), (("events",), EVENT_EXPIRY_PERIOD),
                            (("autoscaler",), AUTOSCALER_PERIOD)):  # fmt: skip
            self._timers.schedule(key, now + period)

    # -- building a cluster ------------------------------------------------------------------
    def add_node_pool(self, pool: NodePool) -> list[str]:
        """Create the pool's nodes; returns their names."""
        names = []
        with self._lock:
            for _i in range(pool.size):
                node = node_object(self.identity.cluster_name, self.identity.project_id,
                                   f"{self.identity.location}-a", pool, self._node_seq, self.clock.now())  # fmt: skip
                self._node_seq += 1
                names.append(self.store.create("nodes", node)["metadata"]["name"])
            self._settle()
        return names

    def apply(self, resource: str, obj: Obj) -> Obj:
        """Create an object (or replace its spec and metadata if it exists), as `kubectl apply` would."""
        with self._lock:
            meta = obj.get("metadata", {})
            try:
                current = self.store.get(resource, meta.get("namespace"), meta["name"])
            except NotFound:
                created = self.store.create(resource, obj)
                self._settle()
                return created
            current["metadata"].update(
                {k: v for k, v in meta.items() if k in ("labels", "annotations")}
            )
            if "spec" in obj:
                current["spec"] = obj["spec"]
            updated = self.store.update(resource, current, check_version=False)
            self._settle()
            return updated

    # -- fault injection -----------------------------------------------------------------------
    def inject(
        self, kind: str, namespace: str | None, name: str, params: Obj | None = None
    ) -> None:
        """Annotate a Deployment (or, with namespace None, a Node) with a fault, as the chaos CLI does."""
        stage = FAULTS[kind]
        resource = "nodes" if stage.target == "Node" else "deployments"

        def change(obj: Obj) -> None:
            annotations = obj["metadata"].setdefault("annotations", {})
            annotations[FAULT_ANNOTATION] = kind
            if params:
                annotations[PARAMS_ANNOTATION] = json.dumps(params)
            else:
                annotations.pop(PARAMS_ANNOTATION, None)

        with self._lock:
            self.store.mutate(resource, namespace if resource != "nodes" else None, name, change)
            self._settle()

    def clear(self, namespace: str | None, name: str, *, node: bool = False) -> None:
        """Remove a fault annotation (the fault ends)."""

        def change(obj: Obj) -> None:
            annotations = obj["metadata"].get("annotations") or {}
            annotations.pop(FAULT_ANNOTATION, None)
            annotations.pop(PARAMS_ANNOTATION, None)

        with self._lock:
            self.store.mutate(
                "nodes" if node else "deployments", None if node else namespace, name, change
            )
            self._settle()

    # -- time ----------------------------------------------------------------------------------
    def step(self, seconds: float) -> None:
        """Advance a `ManualClock` by `seconds`, doing everything that falls due on the way."""
        clock = self.clock
        if not isinstance(clock, ManualClock):
            raise TypeError("step() needs a ManualClock; use start() with other clocks")
        with self._lock, _long_lived_objects_frozen():
            end = clock.now() + seconds
            frozen_at = clock.now()
            self._settle()
            while True:
                due = self._timers.next_due()
                target = end if due is None or due > end else due
                if target > clock.now():
                    clock.advance(target - clock.now())
                self._run_due(clock.now())
                self._settle()
                if clock.now() - frozen_at >= 60.0:  # what survived a minute is long-lived too
                    gc.freeze()
                    frozen_at = clock.now()
                if target >= end:
                    break

    def start(self) -> None:
        """Run the cluster in a background thread on its clock (for a ScaledClock or RealClock)."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="cluster", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the background thread (if running) and wait for it."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _loop(self) -> None:
        speed = float(getattr(self.clock, "speed", 1.0))
        while not self._stop.is_set():
            with self._lock:
                self._settle()
                self._run_due(self.clock.now())
                self._settle()
                due = self._timers.next_due()
            wait = 0.5 if due is None else (due - self.clock.now()) / speed
            self._wake.wait(timeout=min(max(wait, 0.0), 0.5))
            self._wake.clear()

    def prometheus_text(self) -> str:
        """The cluster's Prometheus exposition (see `local_cloud.gke.prometheus`)."""
        return render_exposition(list(self.kubelets.values()), self.view.list("nodes"))

    # -- ClusterRuntime --------------------------------------------------------------------------
    def _container(self, namespace: str, pod: str, container: str) -> ContainerState:
        node = self._pod_node.get((namespace, pod))
        kubelet = self.kubelets.get(node or "")
        state = kubelet.pods.get((namespace, pod)) if kubelet else None
        found = state.container(container) if state else None
        if found is None:
            raise KeyError(f"container {container} of pod {namespace}/{pod} is not running")
        return found

    def container_logs(
        self, namespace: str, pod: str, container: str, *, previous: bool = False
    ) -> list[LogLine]:
        c = self._container(namespace, pod, container)
        if previous:
            if c.previous_logs is None:
                raise KeyError(
                    f'previous terminated container "{container}" in pod "{pod}" not found'
                )
            return list(c.previous_logs)
        if c.instance == 0:
            raise KeyError(
                f'container "{container}" in pod "{pod}" is waiting to start: ContainerCreating'
            )
        return list(c.logs)

    def pod_usage(self, namespace: str, pod: str) -> dict[str, Usage]:
        return dict(self._pod_usage.get((namespace, pod), {}))

    def node_usage(self, node: str) -> Usage:
        return self._node_usage.get(node, Usage(0.0, 0))

    def graceful_delete(self, namespace: str, pod: str, grace_seconds: int) -> bool:
        obj = self.view.get("pods", namespace, pod)
        if obj is None or grace_seconds <= 0 or not obj.get("spec", {}).get("nodeName"):
            return False
        if is_terminating(obj):
            return True
        self._mark_deleting(namespace, pod, grace_seconds)
        return True

    # -- internals -------------------------------------------------------------------------------
    def _on_change(self, event: WatchEvent) -> None:
        # Runs under the store lock in whichever thread wrote: record and wake, nothing more.
        self.view.apply(event)
        if event.resource != "events":
            self._queue.append(event)
            self._wake.set()

    def _mark_deleting(self, namespace: str, pod: str, grace: float) -> None:
        when = self.clock.now() + grace

        def change(obj: Obj) -> None:
            obj["metadata"]["deletionTimestamp"] = rfc3339(when)
            obj["metadata"]["deletionGracePeriodSeconds"] = int(grace)

        with contextlib.suppress(NotFound):
            self.store.mutate("pods", namespace, pod, change)

    def _delete_pod(self, namespace: str, name: str) -> None:
        pod = self.view.get("pods", namespace, name)
        if pod is None or is_terminating(pod):
            return
        if not pod.get("spec", {}).get("nodeName"):
            with contextlib.suppress(NotFound):
                self.store.delete("pods", namespace, name)
            return
        self._mark_deleting(
            namespace, name, float(pod["spec"].get("terminationGracePeriodSeconds", 30))
        )

    def _effect_of(self, state: PodState, c: ContainerState) -> Effect:
        return self.faults.effect_for(state.namespace, state.workload, c.image)

    def _workload_of(self, pod: Obj) -> str | None:
        owner = controller_of(pod)
        if owner is None:
            return None
        if owner.get("kind") == "ReplicaSet":
            rs = self.view.get("replicasets", pod["metadata"].get("namespace"), owner["name"])
            top = controller_of(rs) if rs else None
            if top is not None:
                return str(top["name"])
        return str(owner["name"])

    def _settle(self) -> None:
        settle(self)

    def _run_due(self, now: float) -> None:
        for key in self._timers.pop_due(now):
            run_timer(self, key, now)

    def _event_to_log(self, event: Obj) -> None:
        self._event_logs.append(event)

    def _mark_pods_not_ready(self, node: str) -> None:
        kubelet = self.kubelets.get(node)
        if kubelet is None:
            return
        for state in list(kubelet.pods.values()):
            self._write_status(state, node_ready=False)

    def _write_status(self, state: PodState, *, node_ready: bool) -> None:
        status = pod_status(state, self.clock.now(), node_ready=node_ready)
        cached = self.view.get("pods", state.namespace, state.name)
        if cached is None or cached.get("metadata", {}).get("uid") != state.uid:
            return
        if cached.get("status") == status:
            return

        def change(obj: Obj) -> None:
            obj["status"] = status

        with contextlib.suppress(NotFound):
            self.store.mutate("pods", state.namespace, state.name, change)

    def _new_kubelet(self, node: Obj) -> Kubelet:
        name = node["metadata"]["name"]
        kubelet = Kubelet(name, internal_ip(node), len(self.kubelets), self.recorder,
                          self.seed * 7919 + len(self.kubelets))  # fmt: skip
        self.kubelets[name] = kubelet
        return kubelet

    def _ship_events(self) -> list[Obj]:
        events, self._event_logs = self._event_logs, []
        return [
            event_entry(self.identity, e, f"ev{e['metadata']['name']}{e.get('count', 1)}")
            for e in events
        ]

    def key_of(self, obj: Obj) -> Key:
        return key_of(obj)
