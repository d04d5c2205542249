"""`Monitoring.run()` in a thread evaluates and delivers on its own clock until stopped."""

from __future__ import annotations

import threading
import time

from monitoring_fixtures import Receiver, SeriesFactory

from local_cloud.clock import ScaledClock
from local_cloud.monitoring import Monitoring, WebhookChannel


def test_background_loop_opens_and_delivers(
    receiver: Receiver, score_series: SeriesFactory
) -> None:
    clock = ScaledClock(speed=600.0)  # ten simulated minutes per wall second
    monitoring = Monitoring(clock)
    monitoring.add_channel(WebhookChannel(url=f"{receiver.url}/hook"))
    t0 = clock.now()
    monitoring.write([score_series(t0 - 120 + 60 * i, 0.99) for i in range(3)])
    thread = threading.Thread(target=monitoring.run, kwargs={"interval_seconds": 5.0}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not receiver.requests and time.monotonic() < deadline:
        time.sleep(0.02)
    monitoring.close()
    thread.join(timeout=5)
    assert not thread.is_alive()
    assert [r.body["incident"]["state"] for r in receiver.requests][:1] == ["open"]
