"""List-pods latency of the simulated Kubernetes API at 5,000 pods on 200 nodes.

Target: p99 < 100 ms for `GET /api/v1/pods` (all namespaces, JSON), measured with urllib3
(the HTTP library of the official Python client) over one keep-alive loopback connection until
the whole body has arrived (httpx shown for reference); the server runs in its own process,
as `gke-heal cluster up` runs it. Also reported: one namespace, a label selector, the Table
form `kubectl get pods -A` asks for, and the same list while the cluster writes 200 pod status
updates per second. The machine is shared, so figures move with its load.
"""

from __future__ import annotations

import json
import multiprocessing
import statistics
import threading
import time
import uuid
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import httpx
import urllib3
from rich.console import Console
from rich.table import Table

from local_cloud.clock import rfc3339
from local_cloud.gke.api import ApiServer
from local_cloud.gke.store import ObjectStore

PODS, NODES, NAMESPACES, APPS = 5_000, 200, 10, 50
TARGET_P99_MS = 100.0
RESULTS = Path(__file__).parent / "results" / "simulator_api.json"
TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"


def pod(index: int, now: str) -> dict[str, Any]:
    """A pod shaped like a controller-made, running one (about 4 KB of JSON)."""
    app = f"app-{index % APPS}"
    name = f"{app}-7d9f8c6b5-{index:05d}"
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": f"ns-{index % NAMESPACES}",
            "uid": str(uuid.uuid4()),
            "labels": {"app": app, "pod-template-hash": "7d9f8c6b5"},
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "ReplicaSet",
                    "name": f"{app}-7d9f8c6b5",
                    "uid": str(uuid.uuid4()),
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "spec": {
            "nodeName": f"node-{index % NODES}",
            "restartPolicy": "Always",
            "dnsPolicy": "ClusterFirst",
            "schedulerName": "default-scheduler",
            "terminationGracePeriodSeconds": 30,
            "serviceAccountName": "default",
            "securityContext": {},
            "containers": [
                {
                    "name": app,
                    "image": f"gcr.io/shop/{app}:1.4.2",
                    "imagePullPolicy": "IfNotPresent",
                    "ports": [{"containerPort": 8080, "protocol": "TCP", "name": "http"}],
                    "env": [
                        {"name": "LOG_LEVEL", "value": "info"},
                        {"name": "PORT", "value": "8080"},
                    ],
                    "resources": {
                        "requests": {"cpu": "100m", "memory": "128Mi"},
                        "limits": {"memory": "256Mi"},
                    },
                    "readinessProbe": {
                        "httpGet": {"path": "/healthz", "port": 8080, "scheme": "HTTP"},
                        "periodSeconds": 10,
                        "timeoutSeconds": 1,
                        "successThreshold": 1,
                        "failureThreshold": 3,
                    },
                    "terminationMessagePath": "/dev/termination-log",
                    "terminationMessagePolicy": "File",
                }
            ],
            "tolerations": [
                {"key": k, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}
                for k in ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable")
            ],
        },
        "status": {
            "phase": "Running",
            "qosClass": "Burstable",
            "hostIP": "10.132.0.2",
            "podIP": f"10.4.{index // 250}.{index % 250}",
            "startTime": now,
            "conditions": [
                {"type": t, "status": "True", "lastProbeTime": None, "lastTransitionTime": now}
                for t in ("Initialized", "Ready", "ContainersReady", "PodScheduled")
            ],
            "containerStatuses": [
                {
                    "name": app,
                    "image": f"gcr.io/shop/{app}:1.4.2",
                    "imageID": f"gcr.io/shop/{app}@sha256:{'ab' * 32}",
                    "containerID": f"containerd://{uuid.uuid4().hex}{uuid.uuid4().hex}",
                    "ready": True,
                    "started": True,
                    "restartCount": 0,
                    "state": {"running": {"startedAt": now}},
                    "lastState": {},
                }
            ],
        },
    }


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure(fetch: Callable[[], bytes], runs: int) -> dict[str, float]:
    fetch()  # warm the per-object encoding cache, as a running server has it
    samples, size = [], 0
    for _ in range(runs):
        started = time.perf_counter()
        size = len(fetch())
        samples.append((time.perf_counter() - started) * 1000)
    return {
        "p50_ms": statistics.median(samples),
        "p95_ms": percentile(samples, 0.95),
        "p99_ms": percentile(samples, 0.99),
        "max_ms": max(samples),
        "bytes": size,
        "runs": runs,
    }


def urllib3_get(
    pool: urllib3.HTTPConnectionPool, path: str, accept: str = "application/json"
) -> Callable[[], bytes]:
    """A GET as the official Python client makes it (urllib3, keep-alive pool)."""

    def fetch() -> bytes:
        response = pool.request("GET", path, headers={"Accept": accept})
        if response.status != 200:
            raise RuntimeError(f"GET {path}: {response.status}")
        return bytes(response.data)

    return fetch


def serve(commands: Connection) -> None:
    """The cluster side, in its own process as `gke-heal cluster up` runs it: store, server,
    and on request a writer updating pod statuses 200 times a second."""
    store = ObjectStore()
    now = rfc3339(store.clock.now())
    server = ApiServer(store)
    url = server.start()
    for n in range(NAMESPACES):
        store.create(
            "namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": f"ns-{n}"}}
        )
    started = time.perf_counter()
    for i in range(PODS):
        store.create("pods", pod(i, now))
    commands.send((url, time.perf_counter() - started))
    stop = threading.Event()

    def kubelet() -> None:
        index = 0
        while not stop.is_set():
            target = pod(index % PODS, now)["metadata"]
            store.mutate(
                "pods",
                target["namespace"],
                target["name"],
                lambda p, n=index: p["status"]["containerStatuses"][0].__setitem__(
                    "restartCount", n
                ),
            )
            index += 1
            time.sleep(0.005)

    writer = threading.Thread(target=kubelet, daemon=True)
    while True:
        command = commands.recv()
        if command == "write":
            writer.start()
        elif command == "stop":
            stop.set()
            server.stop()
            commands.send("stopped")
            return


def main() -> None:
    ours, theirs = multiprocessing.Pipe()
    cluster = multiprocessing.get_context("fork").Process(target=serve, args=(theirs,), daemon=True)
    cluster.start()
    url, load_seconds = ours.recv()
    results: dict[str, dict[str, float]] = {}
    host, port = url.removeprefix("http://").split(":")
    pool = urllib3.HTTPConnectionPool(host, int(port), maxsize=1, timeout=30.0)
    results["all pods, JSON"] = measure(urllib3_get(pool, "/api/v1/pods"), 200)
    with httpx.Client(base_url=url, timeout=30) as http:
        results["all pods, JSON (httpx client)"] = measure(
            lambda: http.get("/api/v1/pods").raise_for_status().content, 100
        )
    results["one namespace (500 pods)"] = measure(
        urllib3_get(pool, "/api/v1/namespaces/ns-3/pods"), 200
    )
    results["label selector (100 pods)"] = measure(
        urllib3_get(pool, "/api/v1/pods?labelSelector=app%3Dapp-7"), 200
    )
    results["all pods, Table (kubectl get -A)"] = measure(
        urllib3_get(pool, "/api/v1/pods", TABLE), 50
    )
    ours.send("write")
    results["all pods, JSON, 200 writes/s"] = measure(urllib3_get(pool, "/api/v1/pods"), 200)
    ours.send("stop")
    ours.recv()
    cluster.join(timeout=10)

    table = Table(
        title=f"simulator API: list pods at {PODS:,} pods on {NODES} nodes (loopback, keep-alive)"
    )
    for column in ("request", "p50 ms", "p95 ms", "p99 ms", "max ms", "MB"):
        table.add_column(column, justify="left" if column == "request" else "right")
    for name, r in results.items():
        table.add_row(
            name,
            f"{r['p50_ms']:.1f}",
            f"{r['p95_ms']:.1f}",
            f"{r['p99_ms']:.1f}",
            f"{r['max_ms']:.1f}",
            f"{r['bytes'] / 1e6:.2f}",
        )
    headline = results["all pods, JSON"]["p99_ms"]
    table.caption = f"target p99 < {TARGET_P99_MS:.0f} ms for all pods (JSON): {'met' if headline < TARGET_P99_MS else 'NOT met'}"
    Console().print(table)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "pods": PODS,
                "nodes": NODES,
                "target_p99_ms": TARGET_P99_MS,
                "meets_target": headline < TARGET_P99_MS,
                "store_load_seconds": round(load_seconds, 2),
                "results": {k: {m: round(v, 2) for m, v in r.items()} for k, r in results.items()},
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
