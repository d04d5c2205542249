"""The alert policies in Terraform and in local_cloud.monitoring come from one definition.

`terraform console` evaluates the alerting module's real `policies.tf` (it needs no provider)
against a definition file; the stand-in loads the same file. Changing the file changes both,
and main.tf takes every threshold, duration and label from that evaluation, never a literal.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from terraform_layout import MODULES, Module

from local_cloud.monitoring.policies import AlertPolicy, default_policies_path, load_policies

ALERTING = MODULES / "alerting"


def _terraform_policies(terraform: str, folder: Path) -> dict[str, Any]:
    """Evaluate `local.alert_policies` of the module's policies.tf in `folder`."""
    result = subprocess.run(
        [terraform, "console", "-no-color", "-var", "prefix=tst", "-var", "project_id=p"],
        input="jsonencode(local.alert_policies)\n",
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=60,
        env={"TF_CLI_CONFIG_FILE": "/dev/null", "PATH": "/usr/bin:/bin", "HOME": str(folder)},
    )
    assert result.returncode == 0, result.stderr
    # The console prints the JSON string as an HCL string literal: decode twice.
    return json.loads(json.loads(result.stdout.strip()))


def _provider_free_copy(tmp_path: Path, definition: dict[str, Any] | None = None) -> Path:
    folder = tmp_path / "alerting"
    folder.mkdir()
    for name in ("policies.tf", "variables.tf", "policies.json"):
        shutil.copy(ALERTING / name, folder / name)
    if definition is not None:
        (folder / "policies.json").write_text(json.dumps(definition))
    return folder


def _assert_same(terraform_side: dict[str, Any], policies: tuple[AlertPolicy, ...]) -> None:
    assert set(terraform_side) == {p.name for p in policies}
    for policy in policies:
        tf = terraform_side[policy.name]
        condition = tf["condition"]
        assert condition["threshold_value"] == policy.threshold, policy.name
        assert condition["comparison"] == policy.comparison
        assert condition["duration"] == f"{policy.duration_seconds}s"
        assert condition["alignment_period"] == f"{policy.alignment_period_seconds}s"
        assert condition["filter"] == policy.filter
        assert condition["display_name"] == policy.condition_display_name
        assert tf["auto_close"] == f"{policy.auto_close_seconds}s"
        assert tf["user_labels"] == policy.user_labels
        assert tf["severity"] == policy.severity.upper()
        assert tf["documentation"] == policy.documentation
        assert tf["display_name"] == f"tst {policy.display_name}"


def test_both_sides_read_the_same_file() -> None:
    assert default_policies_path() == ALERTING / "policies.json"
    policies_tf = (ALERTING / "policies.tf").read_text()
    assert (
        'jsondecode(file(coalesce(var.policies_file, "${path.module}/policies.json")))'
        in policies_tf
    )


def test_terraform_evaluates_the_definition_as_the_stand_in_does(
    require_tool: Callable[[str], str], tmp_path: Path
) -> None:
    terraform = require_tool("terraform")
    folder = _provider_free_copy(tmp_path)
    _assert_same(
        _terraform_policies(terraform, folder), load_policies(folder / "policies.json").policies
    )


def test_changing_the_definition_changes_both_sides(
    require_tool: Callable[[str], str], tmp_path: Path
) -> None:
    terraform = require_tool("terraform")
    definition = json.loads((ALERTING / "policies.json").read_text())
    first = definition["policies"][0]
    before = (first["threshold"], first["duration_seconds"])
    first["threshold"] = round(first["threshold"] / 2 + 0.013, 3)
    first["duration_seconds"] += 240
    first["user_labels"]["team"] = "payments"
    definition["policies"].append(
        {**first, "name": "extra-policy", "user_labels": dict(first["user_labels"])}
    )
    folder = _provider_free_copy(tmp_path, definition)

    terraform_side = _terraform_policies(terraform, folder)
    stand_in = load_policies(folder / "policies.json").policies
    _assert_same(terraform_side, stand_in)
    changed = {p.name: p for p in stand_in}[first["name"]]
    assert (changed.threshold, changed.duration_seconds) != before
    assert terraform_side[first["name"]]["condition"]["threshold_value"] == changed.threshold
    assert terraform_side[first["name"]]["user_labels"]["team"] == "payments"
    assert "extra-policy" in terraform_side


def test_main_tf_takes_everything_from_the_definition(modules: dict[str, Module]) -> None:
    alerting = modules["alerting"]
    (policy,) = [r for r in alerting.resources if r.type == "google_monitoring_alert_policy"]
    assert policy.body["for_each"] == "${local.alert_policies}"
    threshold = policy.body["conditions"][0]["condition_threshold"][0]
    for attribute in ("filter", "comparison", "threshold_value", "duration"):
        assert threshold[attribute] == f"${{each.value.condition.{attribute}}}"
    aggregation = threshold["aggregations"][0]
    assert aggregation["alignment_period"] == "${each.value.condition.alignment_period}"
    assert policy.body["user_labels"] == "${each.value.user_labels}"
    assert policy.body["severity"] == "${each.value.severity}"
    assert policy.body["alert_strategy"][0]["auto_close"] == "${each.value.auto_close}"
    assert policy.body["documentation"][0]["content"] == "${each.value.documentation}"
    # No number that could be a threshold, duration or period anywhere but in policies.json.
    for name in ("main.tf", "policies.tf"):
        text = (ALERTING / name).read_text()
        assert not re.search(r"\b0\.\d+\b", text), f"{name} hard-codes a threshold"
        assert not re.search(r'"\d+s"', text), f"{name} hard-codes a duration"
        for word in ("memory_leak", "crash_loop", '"critical"', '"CRITICAL"'):
            assert word not in text, f"{name} hard-codes {word}"


@pytest.mark.parametrize("kind", ["memory_leak", "crash_loop", "node_failure"])
def test_every_issue_kind_has_a_policy_with_the_contract_labels(kind: str) -> None:
    matching = [p for p in load_policies().policies if kind in p.issue_kinds]
    assert len(matching) == 1
    labels = matching[0].user_labels
    assert labels == {"issue": kind, "severity": labels["severity"], "managed_by": "gke-heal"}
