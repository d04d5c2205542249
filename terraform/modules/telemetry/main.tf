locals {
  dataset_id = "${replace(var.prefix, "-", "_")}_gke_logs"
  cluster_filter = join(" AND ", compact([
    "resource.labels.cluster_name=\"${var.cluster.name}\"",
    "resource.labels.location=\"${var.cluster.location}\"",
    var.log_sink.extra_filter,
  ]))
  log_filter = var.log_sink.include_events ? "(resource.type=\"k8s_container\" OR logName:\"/logs/events\") AND ${local.cluster_filter}" : "resource.type=\"k8s_container\" AND ${local.cluster_filter}"

  # One topic per telemetry stream, each with a dead-letter topic and the pipeline's subscription.
  streams = {
    logs    = "${var.prefix}-gke-logs"
    metrics = "${var.prefix}-gke-metrics"
  }
}

data "google_project" "this" {
  project_id = var.project_id
}

resource "google_pubsub_topic" "stream" {
  for_each                   = local.streams
  project                    = var.project_id
  name                       = each.value
  labels                     = var.labels
  message_retention_duration = var.pubsub.message_retention_duration
  kms_key_name               = var.pubsub.kms_key_name
}

resource "google_pubsub_topic" "dead_letter" {
  for_each                   = local.streams
  project                    = var.project_id
  name                       = "${each.value}-dlq"
  labels                     = var.labels
  message_retention_duration = "604800s"
  kms_key_name               = var.pubsub.kms_key_name
}

resource "google_pubsub_subscription" "pipeline" {
  for_each                   = local.streams
  project                    = var.project_id
  name                       = "${each.value}-pipeline"
  topic                      = google_pubsub_topic.stream[each.key].id
  labels                     = var.labels
  ack_deadline_seconds       = var.pubsub.ack_deadline_seconds
  message_retention_duration = var.pubsub.message_retention_duration
  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.dead_letter[each.key].id
    max_delivery_attempts = var.pubsub.max_delivery_attempts
  }
  retry_policy {
    minimum_backoff = "10s"
    maximum_backoff = "600s"
  }
}

# Dead letters are kept for inspection and replay.
resource "google_pubsub_subscription" "dead_letter" {
  for_each                   = local.streams
  project                    = var.project_id
  name                       = "${each.value}-dlq-inspect"
  topic                      = google_pubsub_topic.dead_letter[each.key].id
  labels                     = var.labels
  message_retention_duration = "604800s"
}

# The Pub/Sub service agent forwards undeliverable messages and acks them on the source.
resource "google_pubsub_topic_iam_member" "dead_letter_publisher" {
  for_each = local.streams
  project  = var.project_id
  topic    = google_pubsub_topic.dead_letter[each.key].name
  role     = "roles/pubsub.publisher"
  member   = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-pubsub.iam.gserviceaccount.com"
}

resource "google_pubsub_subscription_iam_member" "dead_letter_subscriber" {
  for_each     = local.streams
  project      = var.project_id
  subscription = google_pubsub_subscription.pipeline[each.key].name
  role         = "roles/pubsub.subscriber"
  member       = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-pubsub.iam.gserviceaccount.com"
}

# --- Cloud Logging sinks: container logs and Kubernetes events to Pub/Sub and BigQuery ---

resource "google_logging_project_sink" "pubsub" {
  project                = var.project_id
  name                   = "${var.prefix}-gke-logs-pubsub"
  destination            = "pubsub.googleapis.com/${google_pubsub_topic.stream["logs"].id}"
  filter                 = local.log_filter
  unique_writer_identity = true
}

resource "google_pubsub_topic_iam_member" "sink_publisher" {
  project = var.project_id
  topic   = google_pubsub_topic.stream["logs"].name
  role    = "roles/pubsub.publisher"
  member  = google_logging_project_sink.pubsub.writer_identity
}

resource "google_bigquery_dataset" "logs" {
  count                       = var.log_sink.bigquery_enabled ? 1 : 0
  project                     = var.project_id
  dataset_id                  = local.dataset_id
  location                    = var.region
  description                 = "GKE container logs and events of ${var.cluster.name}, written by a log sink."
  labels                      = var.labels
  default_table_expiration_ms = var.log_sink.table_expiration_days * 86400000
  dynamic "default_encryption_configuration" {
    for_each = var.bigquery_kms_key_name == null ? [] : [var.bigquery_kms_key_name]
    content {
      kms_key_name = default_encryption_configuration.value
    }
  }
}

resource "google_logging_project_sink" "bigquery" {
  count                  = var.log_sink.bigquery_enabled ? 1 : 0
  project                = var.project_id
  name                   = "${var.prefix}-gke-logs-bigquery"
  destination            = "bigquery.googleapis.com/projects/${var.project_id}/datasets/${google_bigquery_dataset.logs[0].dataset_id}"
  filter                 = local.log_filter
  unique_writer_identity = true
  bigquery_options {
    use_partitioned_tables = true
  }
}

resource "google_bigquery_dataset_iam_member" "sink_writer" {
  count      = var.log_sink.bigquery_enabled ? 1 : 0
  project    = var.project_id
  dataset_id = google_bigquery_dataset.logs[0].dataset_id
  role       = "roles/bigquery.dataEditor"
  member     = google_logging_project_sink.bigquery[0].writer_identity
}

# --- Metrics exporter: Cloud Monitoring has no push export, so a job lists and publishes ---

resource "google_service_account" "exporter" {
  project      = var.project_id
  account_id   = "${var.prefix}-metrics-export"
  display_name = "${var.prefix} metrics exporter"
}

resource "google_project_iam_member" "exporter_monitoring_viewer" {
  project = var.project_id
  role    = "roles/monitoring.viewer"
  member  = google_service_account.exporter.member
}

resource "google_pubsub_topic_iam_member" "exporter_publisher" {
  project = var.project_id
  topic   = google_pubsub_topic.stream["metrics"].name
  role    = "roles/pubsub.publisher"
  member  = google_service_account.exporter.member
}

resource "google_cloud_run_v2_job" "exporter" {
  project             = var.project_id
  name                = "${var.prefix}-metrics-exporter"
  location            = var.region
  labels              = var.labels
  deletion_protection = false
  template {
    task_count = 1
    template {
      service_account = google_service_account.exporter.email
      timeout         = var.exporter.timeout
      max_retries     = 1
      containers {
        image = var.exporter.image
        resources {
          limits = {
            cpu    = var.exporter.cpu
            memory = var.exporter.memory
          }
        }
        env {
          name  = "EXPORTER_PROJECT_ID"
          value = var.project_id
        }
        env {
          name  = "EXPORTER_CLUSTER_NAME"
          value = var.cluster.name
        }
        env {
          name  = "EXPORTER_CLUSTER_LOCATION"
          value = var.cluster.location
        }
        env {
          name  = "EXPORTER_TOPIC"
          value = google_pubsub_topic.stream["metrics"].id
        }
        env {
          name  = "EXPORTER_METRIC_PREFIXES"
          value = join(",", var.exporter.metric_prefixes)
        }
      }
    }
  }
}

resource "google_service_account" "scheduler" {
  project      = var.project_id
  account_id   = "${var.prefix}-export-trigger"
  display_name = "${var.prefix} metrics export trigger"
}

resource "google_cloud_run_v2_job_iam_member" "scheduler_invoker" {
  project  = var.project_id
  location = var.region
  name     = google_cloud_run_v2_job.exporter.name
  role     = "roles/run.invoker"
  member   = google_service_account.scheduler.member
}

resource "google_cloud_scheduler_job" "export" {
  project     = var.project_id
  name        = "${var.prefix}-metrics-export"
  region      = var.region
  description = "Runs the metrics exporter job on a schedule."
  schedule    = var.exporter.schedule
  time_zone   = var.exporter.time_zone
  http_target {
    http_method = "POST"
    uri         = "https://run.googleapis.com/v2/${google_cloud_run_v2_job.exporter.id}:run"
    oauth_token {
      service_account_email = google_service_account.scheduler.email
    }
  }
  depends_on = [google_cloud_run_v2_job_iam_member.scheduler_invoker]
}
