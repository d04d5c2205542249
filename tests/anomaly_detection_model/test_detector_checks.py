"""Every catalogued detector, whoever wrote it, passes the generated check suite."""

from __future__ import annotations

import pytest

from anomaly_detection_model.checks import CHECKS, Check
from anomaly_detection_model.detectors.catalogue import CatalogueEntry, entries

ENTRIES = entries()
SLOW = {"pyod_iforest", "river_hst"}  # third-party baselines, each check takes seconds


def cases() -> list[object]:
    return [
        pytest.param(
            entry,
            check,
            id=f"{name}-{check.name}",
            marks=[pytest.mark.slow] if name in SLOW else [],
        )
        for name, entry in sorted(ENTRIES.items())
        for check in CHECKS
    ]


def test_the_catalogue_holds_the_univariate_detectors() -> None:
    assert {"univariate", "windowed_gaussian", "pyod_iforest", "river_hst"} <= set(ENTRIES)


@pytest.mark.parametrize(("entry", "check"), cases())
def test_detector_passes_check(entry: CatalogueEntry, check: Check) -> None:
    check.run(entry)
