"""The scoring interface of contracts §3: verdict shape, streaming without look-ahead, faults."""

from __future__ import annotations

from typing import Any

import pytest

from anomaly_detection_model.model import EntityModel
from anomaly_detection_model.scoring import FeatureRowError, Scorer
from anomaly_detection_model.synthetic import FAULT_KINDS, Fault, pod_rows

VERDICT_KEYS = {
    "entity_type",
    "entity_id",
    "namespace",
    "deployment",
    "pod",
    "node",
    "window_end",
    "score",
    "issue",
    "severity",
    "critical",
    "evidence",
    "model_version",
}
EXPECTED_ISSUE = {
    "memory_leak": "memory_leak",
    "cpu_saturation": "cpu_saturation",
    "crash_loop": "crash_loop",
    "bad_rollout": "bad_rollout",
    "error_burst": "error_burst",
    "node_not_ready": "node_failure",
    "unschedulable": "unschedulable",
    "dependency_latency": "latency_regression",
}


def test_verdicts_follow_the_contract(trained_model: EntityModel) -> None:
    rows = pod_rows("cart-abc-x1", 5, seed=3)
    verdicts = Scorer(trained_model, "v0007").score(rows)
    assert len(verdicts) == 5
    for row, verdict in zip(rows, verdicts, strict=True):
        assert set(verdict) == VERDICT_KEYS
        assert 0.0 <= verdict["score"] <= 1.0
        assert verdict["severity"] in {"critical", "warning", "info"}
        assert verdict["window_end"] == row["window_end"]
        assert verdict["model_version"] == "v0007"
        assert verdict["critical"] == (verdict["severity"] == "critical")


def test_scoring_in_chunks_equals_scoring_at_once(trained_model: EntityModel) -> None:
    rows = pod_rows("cart-abc-x1", 80, seed=4, fault=Fault("memory_leak", 40, 80))
    whole = Scorer(trained_model, "v").score(rows)
    chunked = Scorer(trained_model, "v")
    pieces = [v for i in range(0, 80, 7) for v in chunked.score(rows[i : i + 7])]
    assert pieces == whole


def test_no_look_ahead(trained_model: EntityModel) -> None:
    rows = pod_rows("cart-abc-x1", 60, seed=5)
    altered = [
        *rows[:30],
        *pod_rows("cart-abc-x1", 30, seed=6, fault=Fault("crash_loop", 30, 60), offset=30),
    ]
    first = Scorer(trained_model, "v").score(rows)
    second = Scorer(trained_model, "v").score(altered)
    assert first[:30] == second[:30]
    assert first[30:] != second[30:]


@pytest.mark.parametrize("fault", FAULT_KINDS)
def test_each_fault_becomes_its_critical_issue_and_healthy_time_stays_quiet(
    trained_model: EntityModel, fault: str
) -> None:
    rows = pod_rows("cart-abc-x1", 200, seed=11, fault=Fault(fault, 120, 170), base_latency_ms=70.0)
    verdicts = Scorer(trained_model, "v").score(rows)
    assert not any(v["critical"] for v in verdicts[:120]), "critical alert on healthy windows"
    critical = [v for v in verdicts[120:170] if v["critical"]]
    assert critical, f"{fault} never became critical"
    assert critical[0]["issue"] == EXPECTED_ISSUE[fault]
    assert {v["issue"] for v in critical} <= {EXPECTED_ISSUE[fault], "error_burst"}


def test_unseen_entity_gets_a_verdict_from_the_first_window(trained_model: EntityModel) -> None:
    verdict = Scorer(trained_model, "v").score(
        pod_rows("brand-new-pod-x9", 1, seed=8, namespace="other")
    )[0]
    assert verdict["issue"] == "none" and not verdict["critical"]


@pytest.mark.parametrize(
    ("broken", "field"),
    [
        ({"entity_type": None}, "entity_type"),
        ({"entity_type": "cluster"}, "entity_type"),
        ({"cpu_limit_utilization": "high"}, "cpu_limit_utilization"),
        ({"event_reasons": ["BackOff"]}, "event_reasons"),
        ({"window_end": 12}, "window_end"),
    ],
)
def test_malformed_rows_name_index_and_field(
    trained_model: EntityModel, broken: dict[str, Any], field: str
) -> None:
    rows = pod_rows("cart-abc-x1", 3, seed=1)
    rows[2] = {**rows[2], **broken}
    scorer = Scorer(trained_model, "v")
    with pytest.raises(FeatureRowError, match=rf"rows\[2\]\.{field}"):
        scorer.score(rows)
    assert scorer.entities == 0  # nothing was learnt from the good rows of a rejected batch


def test_memory_is_bounded_by_max_entities(trained_model: EntityModel) -> None:
    scorer = Scorer(trained_model, "v", max_entities=5)
    for p in range(20):
        scorer.score(pod_rows(f"pod-{p}-x", 2, seed=p))
    assert scorer.entities == 5


def test_untrained_scorer_learns_each_entity(trained_model: EntityModel) -> None:
    verdicts = Scorer.untrained().score(
        pod_rows("cart-abc-x1", 120, seed=2, fault=Fault("crash_loop", 100, 120))
    )
    assert verdicts[0]["model_version"] == "untrained"
    assert any(v["critical"] and v["issue"] == "crash_loop" for v in verdicts[100:])


def test_artefact_json_round_trip_scores_identically(trained_model: EntityModel) -> None:
    import json

    assert trained_model.multivariate is not None, "enough rows to fit the multivariate part"
    restored = EntityModel.from_dict(json.loads(json.dumps(trained_model.to_dict())))
    rows = pod_rows("cart-abc-x1", 150, seed=12, fault=Fault("cpu_saturation", 100, 150))
    assert Scorer(restored, "v").score(rows) == Scorer(trained_model, "v").score(rows)


def test_multivariate_part_sees_a_broken_relation_between_features(
    trained_model: EntityModel,
) -> None:
    rows = pod_rows("cart-abc-x1", 150, seed=13)
    for row in rows[100:]:
        # Traffic, logs and CPU as usual, but the pod stops sending responses.
        row["network_tx_bytes_per_s"] = row["network_tx_bytes_per_s"] * 0.02
    verdicts = Scorer(trained_model, "v").score(rows)
    assert max(v["score"] for v in verdicts[:100]) < 0.6
    assert any("multivariate_score" in v["evidence"] for v in verdicts[100:])


def test_a_new_pod_is_judged_against_its_siblings_normal(trained_model: EntityModel) -> None:
    """A pod that a restart replaced is saturated in its first window: its siblings' normal
    (same Deployment) says so at once; a pod of another Deployment starts from scratch."""
    scorer = Scorer(trained_model, "v")
    scorer.score(pod_rows("cart-old-a1", 60, seed=3, base_latency_ms=70.0))
    surge = Fault("cpu_saturation", 60, 65)
    fresh = scorer.score(
        pod_rows("cart-new-b2", 3, seed=4, fault=surge, base_latency_ms=70.0, offset=60)
    )
    stranger = scorer.score(
        pod_rows("search-new-c3", 3, seed=4, fault=surge, base_latency_ms=70.0, offset=60)
    )
    assert fresh[-1]["critical"] and fresh[-1]["issue"] == "cpu_saturation"
    assert fresh[0]["score"] > stranger[0]["score"]
    assert not stranger[-1]["critical"]  # no normal of its own or its siblings' yet
