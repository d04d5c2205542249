"""Cluster behaviour tests: a real `Cluster` (store, controllers, kubelets, telemetry) on a
`ManualClock`, stepped through simulated time. Nothing is faked; the only stand-in is the
in-memory telemetry sink that records what the cluster publishes."""

from __future__ import annotations

import pytest
from behaviour_sim import Sim


@pytest.fixture
def sim() -> Sim:
    return Sim()
