"""Tests of the univariate detectors and the NAB scorer.

Nothing is faked: corpora are real NAB-layout folders written to tmp_path (or the shared
NAB copy, where a test reads a couple of its files), and detectors run for real.
"""

from __future__ import annotations

from pathlib import Path

import pytest

NAB = Path(__file__).resolve().parents[3].parent / "shared" / "datasets" / "nab"


@pytest.fixture
def nab_root() -> Path:
    """The shared NAB copy; skipped where the data sets are not mounted."""
    if not (NAB / "data").is_dir():
        pytest.skip(f"NAB data not found at {NAB}")
    return NAB
