"""Logs come out as Cloud Logging JSON lines; settings come from HEAL_* with secrets hidden."""

from __future__ import annotations

import json
import logging

import pytest

from self_healing_service.logs import CloudLoggingFormatter
from self_healing_service.settings import Settings


def test_log_lines_are_cloud_logging_json() -> None:
    record = logging.LogRecord(
        "heal", logging.WARNING, __file__, 7, "retrying %s", ("patch",), None
    )
    entry = json.loads(CloudLoggingFormatter().format(record))
    assert entry["severity"] == "WARNING" and entry["message"] == "retrying patch"
    assert entry["logging.googleapis.com/sourceLocation"]["line"] == "7"
    assert entry["time"].endswith("+00:00")


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEAL_MODE", "enforce")
    monkeypatch.setenv("HEAL_API_TOKEN", "s3cret")
    monkeypatch.setenv("HEAL_ALLOWED_NAMESPACES", '["shop"]')
    settings = Settings(_env_file=None)
    assert settings.mode == "enforce" and settings.allowed_namespaces == ["shop"]
    assert "s3cret" not in repr(settings) and "s3cret" not in str(settings.model_dump())
    monkeypatch.setenv("HEAL_MODE", "yolo")
    with pytest.raises(ValueError, match="mode"):
        Settings(_env_file=None)
