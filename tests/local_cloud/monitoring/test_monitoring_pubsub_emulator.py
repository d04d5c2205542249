"""The `pubsub` channel publishes the incident JSON to a real Pub/Sub emulator topic.

Starts the gcloud SDK's emulator on a free loopback port (skipped with the reason where the
SDK or its emulator is missing; required in CI) and pulls what the channel published.
"""

from __future__ import annotations

import base64
import json
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from monitoring_fixtures import SeriesFactory

from local_cloud.clock import ManualClock
from local_cloud.monitoring import Monitoring, PubSubEmulatorChannel


@pytest.fixture
def emulator(require_tool: Callable[[str], str]) -> Iterator[str]:
    gcloud = Path(require_tool("gcloud")).resolve()
    launcher = (
        gcloud.parent.parent / "platform" / "pubsub-emulator" / "bin" / "cloud-pubsub-emulator"
    )
    if not launcher.is_file():
        pytest.skip(f"the gcloud SDK has no Pub/Sub emulator at {launcher}")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [str(launcher), "--host=127.0.0.1", f"--port={port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    host = f"127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"http://{host}/", timeout=1)
                break
            except httpx.TransportError:
                assert process.poll() is None, "the emulator exited"
                assert time.monotonic() < deadline, "the emulator did not start in 30 s"
                time.sleep(0.2)
        yield host
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.mark.slow
def test_incident_published_to_the_emulator(
    emulator: str, clock: ManualClock, score_series: SeriesFactory
) -> None:
    base = f"http://{emulator}/v1/projects/local-project"
    assert httpx.put(f"{base}/topics/alerts").status_code == 200
    reply = httpx.put(
        f"{base}/subscriptions/alerts-check", json={"topic": "projects/local-project/topics/alerts"}
    )
    assert reply.status_code == 200, reply.text
    channel = PubSubEmulatorChannel(
        emulator_host=emulator, topic="projects/local-project/topics/alerts"
    )
    monitoring = Monitoring(clock, channels=[channel])
    t0 = clock.now()
    for i in range(3):
        monitoring.write([score_series(t0 + 60 * i, 0.99)])
    clock.advance(180)
    _, attempts = monitoring.tick()
    assert [a.ok for a in attempts] == [True]
    pulled = httpx.post(f"{base}/subscriptions/alerts-check:pull", json={"maxMessages": 10}).json()
    (received,) = pulled["receivedMessages"]
    incident = json.loads(base64.b64decode(received["message"]["data"]))
    (opened,) = monitoring.incidents()
    assert incident == monitoring.payload(opened)
    assert incident["version"] == "1.2" and incident["incident"]["state"] == "open"
