"""A person's view: headless Chromium opens the dashboard, opens an incident, approves the pending
action, and the action then happens in the cluster.

Chromium comes from Debian's packages; the test installs it when it is missing (as root), and
skips with the reason when it cannot (a failure where GKE_HEAL_REQUIRE_TOOLS=1).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tool_gate import missing_tool

from gke_heal.stack import LocalStack, StackOptions

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def ensure_chromium() -> str:
    found = shutil.which("chromium")
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        missing_tool("chromium", "not installed and this user cannot apt-get install it")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "chromium"]):
        done = subprocess.run(
            command, capture_output=True, text=True, env=env, timeout=900, check=False
        )
        if done.returncode != 0:
            missing_tool("chromium", f"{' '.join(command)} failed: {done.stderr[-300:]}")
    found = shutil.which("chromium")
    if not found:
        missing_tool("chromium", "apt-get install chromium did not provide /usr/bin/chromium")
    assert found is not None
    return found


def _wait(predicate: object, timeout: float, what: str) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()  # type: ignore[operator]
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    folder: Path = tmp_path_factory.mktemp("browser")
    with LocalStack(StackOptions(data_dir=folder, speed=120.0, mode="recommend")) as running:
        running.start()
        yield running


def test_approve_from_the_dashboard_acts_in_the_cluster(stack: LocalStack) -> None:
    chromium = ensure_chromium()
    from playwright.sync_api import sync_playwright

    api = httpx.Client(
        base_url=f"{stack.urls.healing}/api/v1",
        headers={"Authorization": f"Bearer {stack.tokens['api']}"},
        timeout=10,
    )
    stack.clock.sleep(20 * 60)  # learn a normal period
    # A crash whose logs name no unreachable dependency, so a pod restart is proposed.
    stack.cluster.inject("crash_loop", "shop", "payment", {"cause": "bug"})

    def waiting_incident() -> str | None:
        for incident in api.get("/incidents").json():
            if incident["workload"] == "shop/payment" and incident["status"] == "waiting":
                return str(incident["id"])
        return None

    incident_id = str(_wait(waiting_incident, 90, "an incident awaiting approval"))
    # A person takes seconds to start a browser and click: at 120x the approval's 30 minutes
    # would run out in 15 wall seconds, so the clock runs at 1x while the person acts.
    stack.clock.set_speed(1.0)
    assert api.get(f"/incidents/{incident_id}").json()["actions"] == []  # nothing done yet

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page()
            page.goto(stack.urls.dashboard)
            page.click(f"text={incident_id}")
            page.wait_for_selector("button.approve")
            assert page.locator("img[alt=timeline]").count() == 1
            page.click("button.approve")
            page.wait_for_load_state()
        finally:
            browser.close()
            stack.clock.set_speed(120.0)

    def done_action() -> dict[str, object] | None:
        actions = api.get(f"/incidents/{incident_id}").json()["actions"]
        return next((a for a in actions if a["status"] == "done"), None)

    action = _wait(done_action, 60, "the approved action to be done")
    assert isinstance(action, dict)
    audit = api.get(f"/incidents/{incident_id}").json()["audit"]
    approvals = [r for r in audit if r["kind"] == "approval"]
    assert approvals and approvals[0]["data"]["user"] == "dashboard:local-operator"
    # the action really happened in the cluster: its target pod is gone or replaced
    planned = str(action["planned"])
    pods, _ = stack.cluster.store.list("pods", "shop")
    names = {p["metadata"]["name"] for p in pods}
    target = str(action.get("target", ""))
    assert action["action"] in ("delete_pod", "rollout_restart", "rollout_undo"), planned
    if action["action"] == "delete_pod":
        assert target.split("/")[-1] not in names
