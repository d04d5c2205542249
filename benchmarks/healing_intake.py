"""Self-healing intake speed: accepted alerts per second and p99 acknowledgement latency on
loopback, with the service as a real uvicorn process in `enforce` mode against the cluster
simulator, under a storm of duplicated, reordered notices over all three intake paths; then
checks that no incident got more than one action and every action is one cluster mutation.

Targets: 500 accepted alerts/s, p99 acknowledgement under 100 ms, zero duplicate actions.

    .venv/bin/python benchmarks/healing_intake.py [--notices 3000] [--incidents 200]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "self_healing_service"))

from heal_harness import start_sim, wait_for
from notices import alertmanager, monitoring, pubsub
from test_processes import Process

from self_healing_service.store.sqlite import SqliteStore

RESULTS = Path(__file__).parent / "results" / "healing_intake.json"
MODE = "enforce"
WORKERS = 4
WORKLOADS = ["cart", "ad", "email", "search", "shipping", "catalogue", "recommendation"]


def spawn(folder: Path, kubeconfig: Path) -> Process:
    import os
    import subprocess

    from heal_harness import free_port

    port = free_port()
    env = {
        **os.environ, "HEAL_MODE": MODE, "HEAL_SQLITE_PATH": str(folder / "bench.sqlite3"),
        "HEAL_KUBECONFIG": str(kubeconfig), "HEAL_WEBHOOK_TOKEN": "hook",
        "HEAL_PUSH_AUTH": "token", "HEAL_PUSH_TOKEN": "push", "HEAL_ALERTMANAGER_TOKEN": "am",
        "HEAL_API_TOKEN": "api", "HEAL_VERIFY_TIMEOUT_SECONDS": "5",
        "HEAL_VERIFY_STABLE_SECONDS": "1", "HEAL_LOG_LEVEL": "WARNING",
        "HEAL_WORKERS": str(WORKERS),
    }  # fmt: skip
    log = (folder / "service.log").open("wb")
    popen = subprocess.Popen(
        [sys.executable, "-m", "self_healing_service", "--host", "127.0.0.1", "--port", str(port)],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    process = Process(popen, f"http://127.0.0.1:{port}", folder / "service.log")

    def up() -> bool:
        try:
            return httpx.get(process.url + "/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    wait_for(up, 30, "the service")
    return process


def storm(
    notices: int, incidents: int, seed: int
) -> list[tuple[str, dict[str, Any], dict[str, str]]]:
    rng = random.Random(seed)
    requests = []
    for n in range(notices):
        number = n % incidents
        workload = f"shop/{WORKLOADS[number % len(WORKLOADS)]}"
        path = ("monitoring", "pubsub", "alertmanager")[number % 3]
        if path == "alertmanager":
            requests.append(("/alerts/alertmanager", alertmanager(f"b{number}", "memory_leak", workload),
                             {"Authorization": "Bearer am"}))  # fmt: skip
        elif path == "pubsub":
            requests.append(("/alerts/pubsub", pubsub(monitoring(f"0.b{number}", "memory_leak", workload)),
                             {"Authorization": "Bearer push"}))  # fmt: skip
        else:
            requests.append(("/alerts/monitoring?auth_token=hook",
                             monitoring(f"0.b{number}", "memory_leak", workload), {}))  # fmt: skip
    rng.shuffle(requests)
    return requests


async def send_all(
    url: str, requests: list[Any], concurrency: int
) -> tuple[list[float], int, float]:
    latencies: list[float] = []
    accepted = 0
    queue: asyncio.Queue[Any] = asyncio.Queue()
    for item in requests:
        queue.put_nowait(item)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as http:

        async def one_worker() -> None:
            nonlocal accepted
            while not queue.empty():
                path, body, headers = queue.get_nowait()
                started = time.perf_counter()
                response = await http.post(path, json=body, headers=headers)
                latencies.append(time.perf_counter() - started)
                accepted += response.status_code == 200

        started = time.perf_counter()
        await asyncio.gather(*(one_worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return latencies, accepted, elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--notices", type=int, default=3000)
    parser.add_argument("--incidents", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--mode", default="enforce", choices=["observe", "enforce"])
    parser.add_argument("--speed", type=float, default=1.0, help="simulated cluster clock")
    parser.add_argument("--workers", type=int, default=4, help="HEAL_WORKERS of the service")
    args = parser.parse_args()
    global MODE, WORKERS
    MODE, WORKERS = args.mode, args.workers
    console = Console()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        sim = start_sim(folder, speed=args.speed)
        generations = {w: sim.deployment(w)["metadata"]["generation"] for w in WORKLOADS}
        service = spawn(folder, sim.kubeconfig)
        try:
            with console.status("warming up"):  # notify-only notices: connections, caches
                warm = [("/alerts/monitoring?auth_token=hook",
                         monitoring(f"0.warm{n}", "error_burst", "shop/cart"), {})
                        for n in range(200)]  # fmt: skip
                asyncio.run(send_all(service.url, warm, args.concurrency))
                time.sleep(2)
            with console.status(f"sending {args.notices} notices"):
                latencies, accepted, elapsed = asyncio.run(
                    send_all(service.url, storm(args.notices, args.incidents, 1), args.concurrency)
                )
            store = SqliteStore(folder / "bench.sqlite3")
            with console.status("waiting for the incidents to settle"):
                wait_for(lambda: not store.pending(time.time() + 3600, 1)
                         and all(i["status"] != "acting" for i in store.incidents(limit=10_000)),
                         300, "settled")  # fmt: skip
            actions = store.actions()
            per_incident = Counter(a["incident_id"] for a in actions)
            duplicates = sum(1 for c in per_incident.values() if c > 1)
            mutations = sum(
                sim.deployment(w)["metadata"]["generation"] - g for w, g in generations.items()
            )
        finally:
            service.popen.terminate()
            service.popen.wait(timeout=10)
            sim.cluster.stop()
            sim.server.stop()
    latencies.sort()
    result = {
        "notices": args.notices,
        "incidents": args.incidents,
        "concurrency": args.concurrency,
        "mode": args.mode,
        "workers": args.workers,
        "accepted": accepted,
        "accepted_per_second": accepted / elapsed,
        "ack_p50_ms": statistics.median(latencies) * 1000,
        "ack_p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "actions": len(actions),
        "incidents_with_duplicate_actions": duplicates,
        "cluster_mutations": mutations,
        "targets": {"accepted_per_second": 500, "ack_p99_ms": 100, "duplicate_actions": 0},
    }
    table = Table(title="Self-healing intake (loopback, one uvicorn process)")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_column("target", justify="right")
    table.add_row("accepted alerts/s", f"{result['accepted_per_second']:.0f}", "≥ 500")
    table.add_row("ack p50 (ms)", f"{result['ack_p50_ms']:.1f}", "")
    table.add_row("ack p99 (ms)", f"{result['ack_p99_ms']:.1f}", "< 100")
    table.add_row("accepted / sent", f"{accepted} / {args.notices}", "all")
    table.add_row("actions (one per incident at most)", str(len(actions)), "")
    table.add_row("incidents with duplicate actions", str(duplicates), "0")
    table.add_row("cluster mutations (= actions)", str(mutations), str(len(actions)))
    console.print(table)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
