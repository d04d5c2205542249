"""`python -m telemetry_pipeline.exporter`: the metrics exporter job (Cloud Run job on a schedule).

Cloud Monitoring has no push export of time series: each run lists the last period's points of
the configured metric prefixes for one cluster and publishes them, one per message, to the
metrics topic the pipeline reads. Settings come from `EXPORTER_*` variables (set by Terraform's
telemetry module).
"""

from __future__ import annotations

import logging
import sys

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict


class ExporterSettings(BaseSettings):
    """The exporter job's settings, read once at start-up."""

    model_config = SettingsConfigDict(env_prefix="EXPORTER_")

    project_id: str = Field(
        description="Project whose Cloud Monitoring holds the cluster's metrics"
    )
    cluster_name: str = Field(description="Only this cluster's resources are exported")
    cluster_location: str = Field(default="", description="The cluster's location (informational)")
    topic: str = Field(description="projects/P/topics/T the pipeline's metrics subscription reads")
    metric_prefixes: str = Field(
        default="kubernetes.io/container/,kubernetes.io/pod/,kubernetes.io/node/",
        description="Comma-separated metric type prefixes to export",
    )
    period_seconds: float = Field(default=60.0, gt=0, description="How far back one run looks")

    @property
    def prefixes(self) -> tuple[str, ...]:
        return tuple(p.strip() for p in self.metric_prefixes.split(",") if p.strip())


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        settings = ExporterSettings()  # type: ignore[call-arg]
    except ValidationError as exc:
        for error in exc.errors():
            name = "EXPORTER_" + str(error["loc"][0]).upper()
            print(f"metrics exporter: {name}: {error['msg']}", file=sys.stderr)
        return 2
    from telemetry_pipeline.gcp.monitoring import MetricsExporter

    exporter = MetricsExporter(
        settings.project_id,
        settings.topic,
        period=settings.period_seconds,
        prefixes=settings.prefixes,
        cluster=settings.cluster_name,
    )
    count = exporter.export_once()
    logging.getLogger("telemetry_pipeline.exporter").info("published %d points", count)
    return 0


if __name__ == "__main__":
    sys.exit(main())
