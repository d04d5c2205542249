"""Cloud Monitoring `TimeSeries` in its REST JSON shape, validated at the edge.

Accepts what `projects.timeSeries.create` accepts (docs/contracts.md §1 and §4): a metric, a
monitored resource, optional metadata and exactly one point whose value is a double, an int64
(string or number) or a bool.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator


class TimeSeriesError(ValueError):
    """A time series was rejected; the message names the series index and the field."""


class _Metric(BaseModel):
    model_config = ConfigDict(extra="ignore")
    type: str = Field(min_length=1)
    labels: dict[str, str] = Field(default_factory=dict)


class _Resource(BaseModel):
    model_config = ConfigDict(extra="ignore")
    type: str = Field(min_length=1)
    labels: dict[str, str] = Field(default_factory=dict)


class _Interval(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    start_time: datetime | None = Field(default=None, alias="startTime")
    end_time: datetime = Field(alias="endTime")


class _Value(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    double_value: float | None = Field(default=None, alias="doubleValue")
    int64_value: int | None = Field(default=None, alias="int64Value")
    bool_value: bool | None = Field(default=None, alias="boolValue")

    @model_validator(mode="after")
    def _exactly_one(self) -> _Value:
        given = [v for v in (self.double_value, self.int64_value, self.bool_value) if v is not None]
        if len(given) != 1:
            raise ValueError("exactly one of doubleValue, int64Value, boolValue is required")
        return self


class _Point(BaseModel):
    model_config = ConfigDict(extra="ignore")
    interval: _Interval
    value: _Value


class _Metadata(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    user_labels: dict[str, str] = Field(default_factory=dict, alias="userLabels")
    system_labels: dict[str, Any] = Field(default_factory=dict, alias="systemLabels")


class _TimeSeriesModel(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    metric: _Metric
    resource: _Resource
    metric_kind: Literal["GAUGE", "DELTA", "CUMULATIVE"] = Field(
        default="GAUGE", alias="metricKind"
    )
    value_type: Literal["DOUBLE", "INT64", "BOOL"] | None = Field(default=None, alias="valueType")
    metadata: _Metadata = Field(default_factory=_Metadata)
    points: list[_Point] = Field(min_length=1, max_length=1)


SeriesKey = tuple[str, tuple[tuple[str, str], ...], str, tuple[tuple[str, str], ...]]


@dataclass(frozen=True)
class TimeSeries:
    """One written point of one series, as the store keeps it."""

    metric_type: str
    metric_labels: dict[str, str]
    resource_type: str
    resource_labels: dict[str, str]
    metric_kind: str
    value_type: str
    time: float
    value: float
    user_labels: dict[str, str]
    system_labels: dict[str, Any]

    @property
    def key(self) -> SeriesKey:
        """Identity of the series: metric type and labels, resource type and labels."""
        return (
            self.metric_type,
            tuple(sorted(self.metric_labels.items())),
            self.resource_type,
            tuple(sorted(self.resource_labels.items())),
        )

    @classmethod
    def from_json(cls, raw: object, index: int = 0) -> TimeSeries:
        """Validate one REST `TimeSeries`; errors read `timeSeries[3].points.0.value: ...`."""
        try:
            model = _TimeSeriesModel.model_validate(raw)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            raise TimeSeriesError(f"timeSeries[{index}].{where}: {first['msg']}") from exc
        point = model.points[0]
        value = point.value
        if value.double_value is not None:
            number, kind = value.double_value, "DOUBLE"
        elif value.int64_value is not None:
            number, kind = float(value.int64_value), "INT64"
        else:
            number, kind = float(bool(value.bool_value)), "BOOL"
        if model.value_type is not None and model.value_type != kind:
            raise TimeSeriesError(
                f"timeSeries[{index}].valueType: {model.value_type} does not match the point's {kind}"
            )
        end = point.interval.end_time
        if end.tzinfo is None:
            raise TimeSeriesError(
                f"timeSeries[{index}].points.0.interval.endTime: needs a timezone"
            )
        return cls(
            metric_type=model.metric.type,
            metric_labels=dict(model.metric.labels),
            resource_type=model.resource.type,
            resource_labels=dict(model.resource.labels),
            metric_kind=model.metric_kind,
            value_type=kind,
            time=end.timestamp(),
            value=number,
            user_labels=dict(model.metadata.user_labels),
            system_labels=dict(model.metadata.system_labels),
        )
