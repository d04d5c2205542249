"""Local stand-in for Cloud Monitoring: metric store, alert-policy evaluation, notification channels.

The alert policies come from `terraform/modules/alerting/policies.json`, the same file the
Terraform alerting module reads, and incidents go out as Cloud Monitoring's incident JSON
(schema 1.2) by webhook or Pub/Sub push.
"""

from local_cloud.monitoring.app import create_app
from local_cloud.monitoring.channels import (
    NotificationChannel,
    PubSubEmulatorChannel,
    PubSubPushChannel,
    WebhookChannel,
)
from local_cloud.monitoring.delivery import Dispatcher, RetrySchedule
from local_cloud.monitoring.evaluation import AlertEvaluator, IncidentChange
from local_cloud.monitoring.incident import Incident
from local_cloud.monitoring.policies import AlertPolicy, PolicyDefinition, load_policies
from local_cloud.monitoring.service import Monitoring
from local_cloud.monitoring.store import MetricStore
from local_cloud.monitoring.timeseries import TimeSeries, TimeSeriesError

__all__ = [
    "AlertEvaluator",
    "AlertPolicy",
    "Dispatcher",
    "Incident",
    "IncidentChange",
    "MetricStore",
    "Monitoring",
    "NotificationChannel",
    "PolicyDefinition",
    "PubSubEmulatorChannel",
    "PubSubPushChannel",
    "RetrySchedule",
    "TimeSeries",
    "TimeSeriesError",
    "WebhookChannel",
    "create_app",
    "load_policies",
]
