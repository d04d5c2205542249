"""`terraform fmt -check -recursive terraform` passes: the code is in canonical form."""

from __future__ import annotations

import subprocess
from collections.abc import Callable

from terraform_layout import REPO


def test_terraform_fmt_check(require_tool: Callable[[str], str]) -> None:
    terraform = require_tool("terraform")
    result = subprocess.run(
        [terraform, "fmt", "-check", "-recursive", "-no-color", "terraform"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        env={"TF_CLI_CONFIG_FILE": "/dev/null", "PATH": "/usr/bin:/bin", "HOME": "/tmp"},
    )
    assert result.returncode == 0, f"files not formatted:\n{result.stdout}{result.stderr}"
