"""The model on the real simulator and in-process pipeline: right issue named, quiet when healthy.

One seeded demo cluster on a manual clock feeds `InProcessPipeline`, which scores each 60 s
window with an untrained `Scorer` (and, as the demo does, with one trained on the warm-up).
Neither the warm-up (entities still cold) nor the
fault-free stretch after it may produce a critical verdict; then a bad rollout (which the features show only as a new
pod-template hash plus errors from the new pod) must be named `bad_rollout`, and a pod that
cannot be scheduled (no metric moves at all) must be named `unschedulable`, each critical on
the faulty workload only. The full suite with timings lives in `benchmarks/detection.py`.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from anomaly_detection_model.model import EVIDENT_SCORE
from anomaly_detection_model.scoring import Scorer
from anomaly_detection_model.train import normalise, train
from local_cloud.clock import ManualClock
from local_cloud.gke.cluster import Cluster
from local_cloud.gke.demo_cluster import build_demo
from local_cloud.gke.telemetry import FanOutSink
from telemetry_pipeline.inprocess import InProcessPipeline, PipelineSettings
from telemetry_pipeline.sinks import FEATURES


class _Verdicts:
    """Wraps the scorer the pipeline calls, keeping the critical verdicts it returns."""

    def __init__(self) -> None:
        self.scorer = Scorer.untrained()
        self.critical: list[dict[str, Any]] = []

    def score(self, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        verdicts = self.scorer.score(rows)
        self.critical += [v for v in verdicts if v["critical"]]
        return verdicts


class _Drop:
    """Drops anomaly points and every table but the feature rows, which training reads."""

    def __init__(self) -> None:
        self.features: list[dict[str, Any]] = []

    def insert_rows(self, table: str, rows: list[dict[str, Any]]) -> None:
        if table == FEATURES:
            self.features += rows

    def write(self, series: list[dict[str, Any]]) -> None:
        return None


class _Rig:
    def __init__(self, seed: int) -> None:
        self.clock = ManualClock()
        self.verdicts = _Verdicts()
        self.rows = _Drop()
        self.pipeline = InProcessPipeline(
            self.verdicts,
            self.rows,
            _Drop(),
            PipelineSettings(store_raw=False),
            wall_clock=self.clock.now,
        )
        self.cluster = Cluster(clock=self.clock, seed=seed, sink=FanOutSink(self.pipeline))
        build_demo(self.cluster)
        self.warmup_critical: list[dict[str, Any]] = []

    def run(self, minutes: int) -> list[dict[str, Any]]:
        """Advance `minutes`; the critical verdicts of that stretch."""
        before = len(self.verdicts.critical)
        for _ in range(minutes * 6):
            self.cluster.step(10)
            self.pipeline.advance(self.clock.now())
        return self.verdicts.critical[before:]


def _workload(verdict: Mapping[str, Any]) -> str:
    return f"{verdict['namespace']}/{verdict['deployment']}"


@pytest.fixture(scope="module", params=[(11, "untrained"), (23, "trained")], ids=str)
def rig(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> _Rig:
    seed, mode = request.param
    rig = _Rig(seed=seed)
    # Warm-up: each entity learns its own normal (the scorer is untrained).
    rig.warmup_critical = rig.run(30)
    if mode == "trained":
        # As `gke-heal demo` does: train on the warm-up, then score with a fresh scorer whose
        # entities are cold again but judged against the trained fleet normal.
        registry = str(tmp_path_factory.mktemp("models"))
        rows = [normalise(r) for r in rig.rows.features]
        version = train(rows, registry, source="warm-up").version
        rig.verdicts.scorer = Scorer.load(registry, version)
    return rig


def test_cold_start_raises_no_critical_verdict(rig: _Rig) -> None:
    # A busy cache logs a steady trickle of errors; before its normal is known that is no burst.
    critical = rig.warmup_critical
    assert critical == [], [(v["entity_id"], v["issue"], v["window_end"]) for v in critical]


def test_fault_free_stretch_has_no_critical_verdict(rig: _Rig) -> None:
    critical = rig.run(30)
    assert critical == [], [(v["entity_id"], v["issue"], v["window_end"]) for v in critical]


def test_bad_rollout_is_named_from_the_new_revision(rig: _Rig) -> None:
    rig.cluster.inject("bad_rollout", "shop", "checkout")
    critical = rig.run(5)
    rig.cluster.clear("shop", "checkout")
    named = {(_workload(v), v["issue"]) for v in critical}
    assert ("shop/checkout", "bad_rollout") in named, named
    assert {w for w, _ in named} == {"shop/checkout"}, named
    first = critical[0]
    assert first["issue"] == "bad_rollout"
    assert first["evidence"]["rollout_age_seconds"] <= 300
    rig.run(10)  # the rollback settles before the next fault


def test_pending_pods_are_named_unschedulable(rig: _Rig) -> None:
    rig.cluster.inject("unschedulable", "shop", "recommendation")
    critical = rig.run(5)
    rig.cluster.clear("shop", "recommendation")
    named = {(_workload(v), v["issue"]) for v in critical}
    assert named == {("shop/recommendation", "unschedulable")}, named
    # A pending pod moves few metrics (it is not ready, as its siblings are): once the events
    # make the pattern evident, the score carries it past the alert policy's threshold.
    assert all(v["score"] >= 0.5 for v in critical)
    assert max(v["score"] for v in critical) >= EVIDENT_SCORE


def test_a_slow_dependency_is_named_latency_regression_and_scores_past_the_policy(
    rig: _Rig,
) -> None:
    rig.cluster.inject("dependency_latency", "shop", "checkout")
    critical = rig.run(6)
    rig.cluster.clear("shop", "checkout")
    named = {(_workload(v), v["issue"]) for v in critical}
    assert ("shop/checkout", "latency_regression") in named, named
    # Several times its normal for three windows: evident, so it alerts whatever the score.
    latency = [v for v in critical if v["issue"] == "latency_regression"]
    assert all(v["score"] >= EVIDENT_SCORE for v in latency)
    rig.run(10)  # latency settles before the next fault


def test_a_swapped_in_trained_version_keeps_what_entities_learnt() -> None:
    # The demo trains on its warm-up and swaps the new version in just before the first fault.
    rig = _Rig(seed=7)
    rig.run(25)
    with tempfile.TemporaryDirectory() as registry:
        rows = [normalise(r) for r in rig.rows.features]
        version = train(rows, registry, source="warm-up").version
        rig.verdicts.scorer = Scorer.load(registry, version).adopt(rig.verdicts.scorer)
    rig.cluster.inject("crash_loop", "shop", "payment")
    critical = rig.run(4)
    named = {(_workload(v), v["issue"]) for v in critical}
    assert ("shop/payment", "crash_loop") in named, named
