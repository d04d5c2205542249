"""Settings come from CHATOPS_* variables; secrets are SecretStr and never printed."""

from __future__ import annotations

import json

import pytest

from chatops.settings import ChatOpsSettings


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHATOPS_SLACK_BOT_TOKEN", "xoxb-from-env-secret")
    monkeypatch.setenv("CHATOPS_AUTH", "oidc")
    monkeypatch.setenv("CHATOPS_PERMISSIONS", json.dumps({"group:sre": ["*"]}))
    monkeypatch.setenv("CHATOPS_GROUPS", json.dumps({"sre": ["slack:U1"]}))
    settings = ChatOpsSettings()
    assert settings.auth == "oidc"
    assert settings.slack_bot_token is not None
    assert settings.slack_bot_token.get_secret_value() == "xoxb-from-env-secret"
    assert "xoxb-from-env-secret" not in repr(settings) + str(settings.model_dump())
    assert settings.permissions == {"group:sre": ["*"]}


def test_bad_setting_names_the_field(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHATOPS_AUTH", "magic")
    with pytest.raises(ValueError, match="auth"):
        ChatOpsSettings()


def test_every_field_is_documented() -> None:
    undocumented = [n for n, f in ChatOpsSettings.model_fields.items() if not f.description]
    assert undocumented == []
