"""The virtual clocks: scaled time, speed changes, and sleepers across a speed change."""

from __future__ import annotations

import threading
import time

import pytest

from local_cloud.clock import ScaledClock


def test_scaled_clock_runs_speed_times_faster_and_carries_on_across_a_change() -> None:
    clock = ScaledClock(speed=1000.0, start=0.0)
    time.sleep(0.05)
    first = clock.now()
    assert 30.0 <= first <= 500.0  # about 50 simulated seconds, with scheduling slack
    clock.set_speed(1.0)
    assert clock.now() == pytest.approx(first, abs=5.0)  # no jump at the change


def test_a_sleeper_wakes_at_the_new_speed_after_a_change() -> None:
    """Slept at speed 1 for 60 simulated seconds; at speed 6000 they pass in 10 ms, so the
    sleeper must not go on waiting the 60 wall seconds it planned."""
    clock = ScaledClock(speed=1.0, start=0.0)
    woke = threading.Event()

    def sleeper() -> None:
        clock.sleep(60.0)
        woke.set()

    thread = threading.Thread(target=sleeper, daemon=True)
    thread.start()
    time.sleep(0.05)
    assert not woke.is_set()
    clock.set_speed(6000.0)
    assert woke.wait(5.0), "the sleeper overslept the speed change"
    assert clock.now() >= 60.0


def test_sleep_of_zero_or_less_returns_at_once() -> None:
    clock = ScaledClock(speed=1.0)
    started = time.monotonic()
    clock.sleep(0)
    clock.sleep(-3)
    assert time.monotonic() - started < 1.0


def test_speed_must_be_positive() -> None:
    with pytest.raises(ValueError, match="speed"):
        ScaledClock(speed=0)
    with pytest.raises(ValueError, match="speed"):
        ScaledClock(speed=1.0).set_speed(-1)
