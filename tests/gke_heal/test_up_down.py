"""`gke-heal up --background` starts every service (kubectl works against it); `down` stops it."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx
from tool_gate import find_tool


def _urls(folder: Path, timeout: float = 90.0) -> dict[str, str]:
    deadline = time.monotonic() + timeout
    path = folder / "stack-urls.txt"
    while time.monotonic() < deadline:
        if path.exists():
            return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
        time.sleep(0.5)
    log = (folder / "stack.log").read_text() if (folder / "stack.log").exists() else ""
    raise AssertionError(f"the stack did not come up: {log[-2000:]}")


def test_up_background_then_down(tmp_path: Path) -> None:
    """Started from a configuration file, whose mode and guardrails reach the detached stack."""
    cli = [sys.executable, "-m", "gke_heal.cli"]
    config = tmp_path / "gke-heal.yaml"
    config.write_text(
        "mode: enforce\ncluster:\n  speed: 5\n"
        f"local:\n  data_dir: {tmp_path}\n"
        "guardrails:\n  require_approval_for: [drain]\n"
    )
    started = subprocess.run(
        [*cli, "up", "--background", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert started.returncode == 0, started.stderr
    pid = int((tmp_path / "stack.pid").read_text())
    try:
        urls = _urls(tmp_path)
        for name in ("healing", "chatops", "monitoring", "dashboard"):
            assert httpx.get(f"{urls[name]}/healthz", timeout=10).status_code == 200, name
        assert httpx.get(f"{urls['chat_sink']}/_sink/messages", timeout=10).status_code == 200
        assert "mode: <b>enforce</b>" in httpx.get(urls["dashboard"], timeout=10).text
        kubectl = find_tool("kubectl")
        assert kubectl is not None
        pods = subprocess.run(
            [kubectl, "--kubeconfig", urls["kubeconfig"], "get", "pods", "-n", "shop"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert pods.returncode == 0, pods.stderr
        assert "cart-" in pods.stdout
    finally:
        stopped = subprocess.run(
            [*cli, "down", "--data-dir", str(tmp_path)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert stopped.returncode == 0, stopped.stderr
    assert not (tmp_path / "stack.pid").exists()
    alive = subprocess.run(["kill", "-0", str(pid)], capture_output=True, check=False)
    assert alive.returncode != 0


def test_down_without_a_stack_says_so(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "gke_heal.cli", "down", "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert "no stack is running" in done.stdout + done.stderr
