"""The configuration file: safe defaults, clear errors naming field and line, env overrides."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from gke_heal.cli import app
from gke_heal.config import ConfigError, GkeHealConfig, parse_config

REPO = Path(__file__).resolve().parents[2]
runner = CliRunner()


def test_example_config_is_valid_and_safe() -> None:
    result = runner.invoke(app, ["config", "check", str(REPO / "examples" / "gke-heal.yaml")])
    assert result.exit_code == 0, result.output
    assert "mode=observe" in result.output


def test_defaults_start_in_observe_mode() -> None:
    assert GkeHealConfig().mode == "observe"
    assert "kube-system" in GkeHealConfig().scope.exclude_namespaces


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "mode: observe\nguardrails:\n  cooldown_secnds: 5\n",
            "line 3: guardrails.cooldown_secnds: unknown field",
        ),
        ("mode: destroy\n", "line 1: mode:"),
        (
            "mode: observe\nguardrails:\n  cooldown_seconds: -1\n",
            "line 3: guardrails.cooldown_seconds:",
        ),
        ("cluster:\n  speed: fast\n", "line 2: cluster.speed:"),
        ("modee: observe\n", "line 1: modee: unknown field"),
        ("mode: [observe\n", "not valid YAML"),
        ("- a\n- b\n", "must be a mapping"),
    ],
)
def test_bad_values_name_field_and_line(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(text, source="cfg.yaml", environ={})
    assert expected in str(info.value)


def test_cli_rejects_misspelt_field_with_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("mode: observe\nscope:\n  namespace: [shop]\n")
    result = runner.invoke(app, ["config", "check", str(bad)])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1
    assert "scope.namespace" in lines[0] and "line 3" in lines[0]
    assert "Traceback" not in result.output


def test_cli_rejects_missing_file(tmp_path: Path) -> None:
    result = runner.invoke(app, ["config", "check", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 1
    assert "cannot read" in result.output


def test_environment_overrides_file() -> None:
    config = parse_config(
        "mode: observe\n",
        environ={"GKE_HEAL__MODE": "enforce", "GKE_HEAL__GUARDRAILS__COOLDOWN_SECONDS": "30"},
    )
    assert config.mode == "enforce"
    assert config.guardrails.cooldown_seconds == 30


def test_bad_environment_override_names_the_variable() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config("mode: observe\n", environ={"GKE_HEAL__MODE": "yolo"})
    assert "GKE_HEAL__MODE" in str(info.value)


def test_secrets_are_not_printed() -> None:
    config = parse_config("chatops:\n  slack:\n    bot_token: xoxb-very-secret\n", environ={})
    assert "xoxb-very-secret" not in repr(config)
    assert config.chatops.slack.bot_token is not None
    assert config.chatops.slack.bot_token.get_secret_value() == "xoxb-very-secret"


def test_scope_and_guardrails_become_the_healing_services_settings() -> None:
    from gke_heal.config import healing_overrides
    from self_healing_service.settings import Settings

    config = parse_config(
        "mode: enforce\n"
        "scope:\n  namespaces: [shop]\n  label_selector: heal.gke.io/enabled=true\n"
        "guardrails:\n  cooldown_seconds: 300\n  max_actions_per_hour: 5\n"
        "  max_nodes_fraction: 0.5\n  require_approval_for: [drain]\n",
        environ={},
    )
    settings = Settings(**healing_overrides(config))
    assert settings.allowed_namespaces == ["shop"]
    assert settings.label_selector == "heal.gke.io/enabled=true"
    assert settings.cooldown_seconds == 300
    assert settings.global_actions_per_hour == 5
    assert settings.max_node_pool_share == 0.5
    assert settings.approval_actions == ["drain"]
    assert "kube-system" in settings.excluded_namespaces and not settings.allow_kube_system


def test_allowing_kube_system_takes_it_off_the_excluded_list() -> None:
    from gke_heal.config import healing_overrides

    config = parse_config("scope:\n  allow_kube_system: true\n", environ={})
    overrides = healing_overrides(config)
    assert overrides["allow_kube_system"] is True
    assert "kube-system" not in overrides["excluded_namespaces"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "guardrails:\n  require_approval_for: [drian]\n",
            "line 2: guardrails.require_approval_for: Value error, unknown action 'drian'",
        ),
        (
            "scope:\n  label_selector: 'tier in (web)'\n",
            "line 2: scope.label_selector: Value error, 'tier in (web)': set-based",
        ),
    ],
)
def test_unusable_scope_or_guardrail_names_field_and_line(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(text, source="cfg.yaml", environ={})
    assert expected in str(info.value)
