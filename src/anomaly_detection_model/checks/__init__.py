"""The generated check suite every catalogued detector must pass.

`checks_for(entry)` yields named checks; `tests/anomaly_detection_model/test_detector_checks.py`
runs each one against every entry of `anomaly_detection_model.detectors.catalogue`.
"""

from anomaly_detection_model.checks.suite import CHECKS, Check, checks_for

__all__ = ["CHECKS", "Check", "checks_for"]
