"""The no-training-code alternative: BigQuery ML `ARIMA_PLUS` + `ML.DETECT_ANOMALIES`.

Two SQL files, rendered here with validated parameters: `arima_plus.sql` trains one model per
(entity, metric) series inside BigQuery; `detect_anomalies.sql` scores recent windows against
it. No Python model, no training container: run the first on a schedule (BigQuery scheduled
query), the second every few minutes. What it gives up compared with the entity model: one
metric per model (no cross-metric patterns), no issue classification, and no per-entity state
beyond each series' own fit. See README.md in this folder.
"""

from __future__ import annotations

import re
from importlib import resources

from anomaly_detection_model.features import NUMERIC_FEATURES

_IDENTIFIER = re.compile(r"^[A-Za-z0-9_-]+$")


def _check(name: str, value: str) -> str:
    if not _IDENTIFIER.match(value):
        raise ValueError(f"{name}: {value!r} is not a plain BigQuery identifier")
    return value


def _metric(metric: str) -> str:
    if metric not in NUMERIC_FEATURES:
        raise ValueError(f"metric: {metric!r} is not a numeric feature of contracts §2")
    return metric


def _template(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text()


def create_model_sql(
    project: str, dataset: str, metric: str, *, history_days: int = 14, horizon: int = 60
) -> str:
    """The `CREATE MODEL ... ARIMA_PLUS` statement for one feature column."""
    return _template("arima_plus.sql").format(
        project=_check("project", project),
        dataset=_check("dataset", dataset),
        metric=_metric(metric),
        history_days=int(history_days),
        horizon=int(horizon),
    )


def detect_anomalies_sql(
    project: str, dataset: str, metric: str, *, threshold: float = 0.99, recent_minutes: int = 15
) -> str:
    """The `ML.DETECT_ANOMALIES` query over the newest windows for one feature column."""
    if not 0 < threshold < 1:
        raise ValueError("threshold: must be strictly between 0 and 1")
    return _template("detect_anomalies.sql").format(
        project=_check("project", project),
        dataset=_check("dataset", dataset),
        metric=_metric(metric),
        threshold=float(threshold),
        recent_minutes=int(recent_minutes),
    )
