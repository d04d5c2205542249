data "google_project" "this" {
  project_id = var.project_id
}

resource "google_pubsub_topic" "alerts" {
  project                    = var.project_id
  name                       = "${var.prefix}-alerts"
  labels                     = var.labels
  message_retention_duration = var.topic_config.message_retention_duration
  kms_key_name               = var.topic_config.kms_key_name
}

resource "google_monitoring_notification_channel" "pubsub" {
  project      = var.project_id
  display_name = "${var.prefix} alerts to Pub/Sub"
  type         = "pubsub"
  labels = {
    topic = google_pubsub_topic.alerts.id
  }
  user_labels = {
    managed_by = "gke-heal"
  }
}

# The Monitoring notification service agent exists once the first Pub/Sub channel does.
resource "google_pubsub_topic_iam_member" "monitoring_publisher" {
  project    = var.project_id
  topic      = google_pubsub_topic.alerts.name
  role       = "roles/pubsub.publisher"
  member     = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-monitoring-notification.iam.gserviceaccount.com"
  depends_on = [google_monitoring_notification_channel.pubsub]
}

# Policies on a custom metric can only be created once its descriptor exists.
resource "google_monitoring_metric_descriptor" "anomaly_score" {
  project      = var.project_id
  type         = local.definition.metric_type
  display_name = "Anomaly score (${var.prefix})"
  description  = "Anomaly score in [0, 1] per entity and window, written by the gke-heal pipeline."
  metric_kind  = "GAUGE"
  value_type   = "DOUBLE"
  unit         = "1"
  dynamic "labels" {
    for_each = toset(["issue", "severity", "workload", "entity_type", "model_version"])
    content {
      key        = labels.value
      value_type = "STRING"
    }
  }
}

resource "google_monitoring_alert_policy" "anomaly" {
  for_each     = local.alert_policies
  project      = var.project_id
  display_name = each.value.display_name
  combiner     = "OR"
  enabled      = var.enabled
  severity     = each.value.severity
  user_labels  = each.value.user_labels

  conditions {
    display_name = each.value.condition.display_name
    condition_threshold {
      filter          = each.value.condition.filter
      comparison      = each.value.condition.comparison
      threshold_value = each.value.condition.threshold_value
      duration        = each.value.condition.duration
      # One incident per workload: each pod's series aligned to its max, then the max across
      # the pods of the group (policies.json `group_by_fields`).
      aggregations {
        alignment_period     = each.value.condition.alignment_period
        per_series_aligner   = "ALIGN_MAX"
        cross_series_reducer = length(each.value.condition.group_by_fields) > 0 ? "REDUCE_MAX" : null
        group_by_fields      = each.value.condition.group_by_fields
      }
      trigger {
        count = 1
      }
    }
  }

  alert_strategy {
    auto_close = each.value.auto_close
  }

  documentation {
    content   = each.value.documentation
    mime_type = "text/markdown"
  }

  notification_channels = [google_monitoring_notification_channel.pubsub.id]
  depends_on            = [google_monitoring_metric_descriptor.anomaly_score]
}
