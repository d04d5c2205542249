"""ChatOps test set-up.

Real: uvicorn HTTP servers on 127.0.0.1 (random ports) for the ChatOps app, the local chat
sink (chatops.sink, SQLite) and the healing API; slack_sdk and httpx talking real HTTP to them;
SQLite files in tmp_path. Faked: only the self-healing service, by `healing_stand_in.py`, a
test-only server implementing contract §7 (swap in the real service through the `healing`
fixture once it can be started by tests). Flakiness comes from the sink's fault plan.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from chatops_harness import (
    BOT_TOKEN,
    HEALING_TOKEN,
    Healing,
    Sink,
    make_settings,
)
from healing_stand_in import create_stand_in
from servers import RunningServer

from chatops.app import create_app
from chatops.sink.app import create_sink_app


@pytest.fixture
def sink(tmp_path: Path) -> Iterator[Sink]:
    app = create_sink_app(tmp_path / "sink.sqlite3", bot_token=BOT_TOKEN)
    with RunningServer(app) as server:
        yield Sink(server.url, app)


@pytest.fixture
def healing() -> Iterator[Healing]:
    """The self-healing API. Today the test-only stand-in; the real service goes here later."""
    app = create_stand_in(HEALING_TOKEN)
    with RunningServer(app) as server:
        yield Healing(server.url, HEALING_TOKEN, app)


@pytest.fixture
def chatops_factory(tmp_path: Path, sink: Sink) -> Iterator[Callable[..., RunningServer]]:
    """Start a ChatOps app (real uvicorn) with settings pointing at the sink; stopped at the end."""
    started: list[RunningServer] = []

    def start(healing_url: str = "http://127.0.0.1:9", **extra: Any) -> RunningServer:
        settings = make_settings(tmp_path, sink, healing_url, **extra)
        server = RunningServer(create_app(settings)).__enter__()
        server.app = server.server.config.app  # type: ignore[attr-defined]
        started.append(server)
        return server

    yield start
    for server in started:
        server.__exit__()
