"""The HTTP API over a real uvicorn server: timeSeries create/list, incidents, clear 400s."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from monitoring_fixtures import ANOMALY, SeriesFactory

from local_cloud.clock import ManualClock
from local_cloud.monitoring import Monitoring, create_app


@pytest.fixture
def served(clock: ManualClock) -> Iterator[tuple[Monitoring, httpx.Client]]:
    monitoring = Monitoring(clock, project="p")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(create_app(monitoring), host="127.0.0.1", port=port, log_level="error")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
        yield monitoring, client
    server.should_exit = True
    thread.join(timeout=5)


def test_written_series_open_an_incident_listed_over_http(
    served: tuple[Monitoring, httpx.Client], clock: ManualClock, score_series: SeriesFactory
) -> None:
    monitoring, client = served
    t0 = clock.now()
    for i in range(4):
        reply = client.post(
            "/v3/projects/p/timeSeries", json={"timeSeries": [score_series(t0 + 60 * i, 0.97)]}
        )
        assert reply.status_code == 200, reply.text
        assert reply.json() == {}
    listed = client.get(
        "/v3/projects/p/timeSeries",
        params={"filter": f'metric.type = "{ANOMALY}" AND metric.labels.issue = "memory_leak"'},
    ).json()
    assert len(listed["timeSeries"][0]["points"]) == 4
    other = client.get(
        "/v3/projects/p/timeSeries", params={"filter": 'metric.labels.issue = "crash_loop"'}
    )
    assert other.json() == {"timeSeries": []}
    bad = client.get("/v3/projects/p/timeSeries", params={"filter": "metric.type > 3"})
    assert bad.status_code == 400 and "unsupported term" in bad.text
    clock.advance(240)
    monitoring.tick()
    incidents = client.get("/incidents", params={"state": "open"}).json()
    assert len(incidents) == 1
    one = client.get(f"/incidents/{incidents[0]['incident']['incident_id']}").json()
    assert one == incidents[0]
    assert client.get("/incidents/0.nope").status_code == 404
    policies = client.get("/v3/projects/p/alertPolicies").json()["alertPolicies"]
    assert {p["userLabels"]["issue"] for p in policies} >= {"memory_leak", "crash_loop"}


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({}, "timeSeries: a non-empty list is required"),
        ({"timeSeries": [{"metric": {"type": "x"}}]}, "timeSeries[0].resource"),
        ("not-a-dict", "timeSeries"),
    ],
)
def test_bad_bodies_get_400_with_the_field(
    served: tuple[Monitoring, httpx.Client], body: object, reason: str
) -> None:
    _, client = served
    reply = client.post("/v3/projects/p/timeSeries", json=body)
    assert reply.status_code == 400
    assert reason in reply.text


def test_bad_point_value_names_the_field(
    served: tuple[Monitoring, httpx.Client], clock: ManualClock, score_series: SeriesFactory
) -> None:
    _, client = served
    series = score_series(clock.now(), 0.5)
    series["points"][0]["value"] = {}
    reply = client.post("/v3/projects/p/timeSeries", json={"timeSeries": [series]})
    assert reply.status_code == 400
    assert "timeSeries[0].points.0.value" in reply.text
    assert "exactly one of doubleValue" in reply.text
    assert client.post("/v3/projects/p/timeSeries", content=b"{").status_code == 400
