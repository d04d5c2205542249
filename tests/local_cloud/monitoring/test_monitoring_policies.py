"""Loading the policy definition: the repository's file is found and bad files are named clearly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from local_cloud.monitoring.policies import PolicyError, default_policies_path, load_policies

REPO = Path(__file__).resolve().parents[3]


def test_default_is_the_terraform_alerting_definition() -> None:
    assert default_policies_path() == REPO / "terraform/modules/alerting/policies.json"
    definition = load_policies()
    issues = {p.user_labels["issue"] for p in definition.policies}
    contract_kinds = {
        "memory_leak", "cpu_saturation", "crash_loop", "bad_rollout", "error_burst",
        "node_failure", "unschedulable", "latency_regression",
    }  # fmt: skip
    assert issues == contract_kinds
    assert all(p.user_labels["managed_by"] == "gke-heal" for p in definition.policies)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["policies"][0].update(duration_seconds=90), "duration_seconds"),
        (lambda d: d["policies"][0].update(auto_close_seconds=60), "auto_close_seconds"),
        (lambda d: d["policies"][0]["user_labels"].pop("issue"), "user_labels.issue"),
        (lambda d: d["policies"][0]["user_labels"].update(issue="Memory Leak"), "label"),
        (lambda d: d["policies"][1].update(name=d["policies"][0]["name"]), "unique"),
        (lambda d: d["policies"][0].update(thresold=0.5), "thresold"),
    ],
)
def test_bad_definitions_name_the_field(tmp_path: Path, mutate, message: str) -> None:  # type: ignore[no-untyped-def]
    raw = json.loads(default_policies_path().read_text())
    mutate(raw)
    path = tmp_path / "policies.json"
    path.write_text(json.dumps(raw))
    with pytest.raises(PolicyError) as error:
        load_policies(path)
    assert str(path) in str(error.value)
    assert message in str(error.value)


def test_not_json_is_reported_with_line(tmp_path: Path) -> None:
    path = tmp_path / "policies.json"
    path.write_text('{\n  "version": 1,\n  oops\n}')
    with pytest.raises(PolicyError, match="line 3"):
        load_policies(path)
