"""The import-linter contract holds, and breaking a unit boundary makes it fail."""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LINT_IMPORTS = str(Path(sysconfig.get_path("scripts")) / "lint-imports")


def run_linter() -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [LINT_IMPORTS, "--no-cache"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": str(Path(sys.executable).parent)},
    )


@pytest.fixture
def violation() -> Iterator[list[Path]]:
    created: list[Path] = []
    yield created
    for path in created:
        path.unlink(missing_ok=True)
        cache = path.parent / "__pycache__"
        if cache.is_dir():
            for pyc in cache.glob(f"{path.stem}.*"):
                pyc.unlink()


def test_contracts_hold() -> None:
    result = run_linter()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "BROKEN" not in result.stdout


@pytest.mark.parametrize(
    ("package", "statement", "contract"),
    [
        ("chatops", "import self_healing_service", "Deployable units do not import each other"),
        ("local_cloud", "import gke_heal", "nothing imports gke_heal"),
        ("chatops", "import kubernetes", "kubernetes client is imported only"),
        ("self_healing_service", "import apache_beam", "apache_beam is imported only"),
        (
            "telemetry_pipeline",
            "from google.cloud import pubsub_v1",
            "Google Cloud clients and google-auth",
        ),
    ],
)
def test_breaking_a_boundary_fails(
    violation: list[Path], package: str, statement: str, contract: str
) -> None:
    root = REPO / "chatops" if package == "chatops" else REPO / "src" / package
    module = root / f"boundary_probe_{uuid.uuid4().hex[:8]}.py"
    module.write_text(f'"""Temporary module that breaks a boundary."""\n\n{statement}  # noqa\n')
    violation.append(module)
    result = run_linter()
    assert result.returncode != 0, result.stdout
    assert contract in result.stdout
    assert "BROKEN" in result.stdout


def test_linter_is_installed() -> None:
    assert shutil.which("lint-imports", path=str(Path(LINT_IMPORTS).parent)) is not None
