"""The Slack app manifest points at the routes the app serves, with the scopes it needs."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import yaml
from chatops_harness import Sink, make_settings

from chatops.app import create_app
from chatops.commands import WORDS

MANIFEST = Path(__file__).resolve().parents[2] / "chatops" / "slack-app-manifest.yaml"


def test_manifest_matches_the_app(tmp_path: Path, sink: Sink) -> None:
    manifest = yaml.safe_load(MANIFEST.read_text())
    routes = {getattr(r, "path", "") for r in create_app(make_settings(tmp_path, sink)).routes}
    command = manifest["features"]["slash_commands"][0]
    assert command["command"] == "/heal"
    assert urlparse(command["url"]).path in routes
    assert urlparse(manifest["settings"]["interactivity"]["request_url"]).path in routes
    assert {"chat:write", "files:write", "commands"} <= set(
        manifest["oauth_config"]["scopes"]["bot"]
    )
    hint = command["usage_hint"]
    assert all(word in hint for word in WORDS)
