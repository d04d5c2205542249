"""HTTP face of the Monitoring stand-in: the v3 `timeSeries` API, alert policies and incidents.

`POST /v3/projects/{p}/timeSeries` takes the REST body `{"timeSeries": [...]}` exactly as
`MetricServiceClient.create_time_series` sends it; errors are 400 with the series and field.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.responses import JSONResponse

from local_cloud.clock import rfc3339
from local_cloud.monitoring.incident import policy_id
from local_cloud.monitoring.service import Monitoring
from local_cloud.monitoring.store import Series

MAX_SERIES_PER_CALL = 200  # the Cloud Monitoring API limit per create call


def _series_json(series: Series) -> dict[str, Any]:
    first = series.latest or series.first
    value_key = {"DOUBLE": "doubleValue", "INT64": "int64Value", "BOOL": "boolValue"}[
        first.value_type
    ]
    points: list[dict[str, Any]] = []
    for time, value in reversed(list(zip(series.times, series.values, strict=True))):
        shown: Any = value
        if first.value_type == "INT64":
            shown = str(int(value))
        elif first.value_type == "BOOL":
            shown = bool(value)
        points.append({"interval": {"endTime": rfc3339(time)}, "value": {value_key: shown}})
    return {
        "metric": {"type": first.metric_type, "labels": first.metric_labels},
        "resource": {"type": first.resource_type, "labels": first.resource_labels},
        "metricKind": first.metric_kind,
        "valueType": first.value_type,
        "points": points,  # newest first, as the API lists them
    }


_TERM = re.compile(r'^\s*(metric|resource)\.(type|labels?\.[A-Za-z0-9_]+)\s*=\s*"([^"]*)"\s*$')


def parse_filter(text: str) -> dict[str, str]:
    """The subset of the Monitoring filter language the local tools use: `a = "b" AND ...`."""
    wanted: dict[str, str] = {}
    for term in filter(None, (t.strip() for t in re.split(r"\s+AND\s+", text.strip()))):
        match = _TERM.match(term)
        if match is None:
            raise ValueError(
                f"unsupported term {term!r} (use metric.type, resource.type, *.labels.K)"
            )
        kind, key, value = match.groups()
        key = re.sub(r"^labels?\.", "labels.", key)
        wanted[f"{kind}.{key}"] = value
    return wanted


def _matches(series: Series, wanted: dict[str, str]) -> bool:
    first = series.latest or series.first
    actual = {"metric.type": first.metric_type, "resource.type": first.resource_type}
    actual |= {f"metric.labels.{k}": v for k, v in first.metric_labels.items()}
    actual |= {f"resource.labels.{k}": v for k, v in first.resource_labels.items()}
    return all(actual.get(k) == v for k, v in wanted.items())


def create_app(monitoring: Monitoring) -> FastAPI:
    """A fresh app over `monitoring`; evaluation is driven by the caller (`tick`/`run`)."""
    app = FastAPI(title="local_cloud.monitoring", version="1")

    @app.post("/v3/projects/{project}/timeSeries")
    async def create_time_series(project: str, request: Request) -> JSONResponse:
        try:
            body = await request.json()
        except ValueError:
            raise HTTPException(400, "body is not JSON") from None
        series = body.get("timeSeries") if isinstance(body, dict) else None
        if not isinstance(series, list) or not series:
            raise HTTPException(400, "timeSeries: a non-empty list is required")
        if len(series) > MAX_SERIES_PER_CALL:
            raise HTTPException(400, f"timeSeries: at most {MAX_SERIES_PER_CALL} per request")
        errors = monitoring.write(series)
        if errors:
            return JSONResponse(
                status_code=400,
                content={
                    "error": {
                        "code": 400,
                        "status": "INVALID_ARGUMENT",
                        "message": "One or more TimeSeries could not be written: "
                        + "; ".join(str(e) for e in errors),
                        "details": [str(e) for e in errors],
                    }
                },
            )
        return JSONResponse({})

    @app.get("/v3/projects/{project}/timeSeries")
    def list_time_series(
        project: str, filter: str = Query(default="", description='e.g. metric.type = "T"')
    ) -> dict[str, Any]:
        try:
            wanted = parse_filter(filter)
        except ValueError as exc:
            raise HTTPException(400, f"filter: {exc}") from None
        found = monitoring.store.series(wanted.get("metric.type"))
        return {"timeSeries": [_series_json(s) for s in found if _matches(s, wanted)]}

    @app.get("/v3/projects/{project}/alertPolicies")
    def list_alert_policies(project: str) -> dict[str, Any]:
        policies = []
        for p in monitoring.definition.policies:
            name = f"projects/{project}/alertPolicies/{policy_id(p)}"
            policies.append(
                {
                    "name": name,
                    "displayName": p.display_name,
                    "userLabels": p.user_labels,
                    "severity": p.severity.upper(),
                    "combiner": "OR",
                    "conditions": [
                        {
                            "displayName": p.condition_display_name,
                            "conditionThreshold": {
                                "filter": p.filter,
                                "comparison": p.comparison,
                                "thresholdValue": p.threshold,
                                "duration": f"{p.duration_seconds}s",
                            },
                        }
                    ],
                    "alertStrategy": {"autoClose": f"{p.auto_close_seconds}s"},
                    "documentation": {"content": p.documentation, "mimeType": "text/markdown"},
                }
            )
        return {"alertPolicies": policies}

    @app.get("/incidents")
    def list_incidents(state: str = "all") -> list[dict[str, Any]]:
        if state not in ("open", "closed", "all"):
            raise HTTPException(400, "state: must be open, closed or all")
        return [monitoring.payload(i) for i in monitoring.incidents(state)]

    @app.get("/incidents/{incident_id}")
    def get_incident(incident_id: str) -> dict[str, Any]:
        incident = monitoring.incident(incident_id)
        if incident is None:
            raise HTTPException(404, f"incident {incident_id} not found")
        return monitoring.payload(incident)

    @app.get("/deliveries")
    def list_deliveries() -> list[dict[str, Any]]:
        return [vars(a) for a in monitoring.dispatcher.attempts]

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
