locals {
  dataset_id = "${replace(var.prefix, "-", "_")}_telemetry"
  worker_roles = toset([
    "roles/dataflow.worker",
    "roles/monitoring.metricWriter",
    "roles/bigquery.jobUser",
  ])
}

resource "google_service_account" "dataflow" {
  project      = var.project_id
  account_id   = "${var.prefix}-dataflow"
  display_name = "${var.prefix} telemetry pipeline (Dataflow workers)"
}

resource "google_project_iam_member" "dataflow" {
  for_each = local.worker_roles
  project  = var.project_id
  role     = each.value
  member   = google_service_account.dataflow.member
}

resource "google_storage_bucket" "staging" {
  #checkov:skip=CKV_GCP_62:Staging holds Dataflow's temporary files (deleted after 7 days); Cloud Audit Logs record access.
  project                     = var.project_id
  name                        = "${var.prefix}-${var.project_id}-dataflow"
  location                    = var.region
  labels                      = var.labels
  force_destroy               = true
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  versioning {
    enabled = true
  }
  lifecycle_rule {
    condition {
      age = 7
    }
    action {
      type = "Delete"
    }
  }
  dynamic "encryption" {
    for_each = var.kms_key_name == null ? [] : [var.kms_key_name]
    content {
      default_kms_key_name = encryption.value
    }
  }
}

resource "google_storage_bucket_iam_member" "staging" {
  bucket = google_storage_bucket.staging.name
  role   = "roles/storage.objectAdmin"
  member = google_service_account.dataflow.member
}

resource "google_storage_bucket_iam_member" "model_reader" {
  bucket = var.model.bucket
  role   = "roles/storage.objectViewer"
  member = google_service_account.dataflow.member
}

resource "google_pubsub_subscription_iam_member" "subscriber" {
  for_each = {
    logs    = var.sources.logs_subscription_name
    metrics = var.sources.metrics_subscription_name
  }
  project      = var.project_id
  subscription = each.value
  role         = "roles/pubsub.subscriber"
  member       = google_service_account.dataflow.member
}

# Raw metrics, features, anomalies and dead letters (docs/contracts.md §2); logs come from the sink.
resource "google_bigquery_dataset" "telemetry" {
  project     = var.project_id
  dataset_id  = local.dataset_id
  location    = var.region
  description = "gke-heal telemetry warehouse: raw metrics, features, anomalies, dead letters."
  labels      = var.labels
  dynamic "default_encryption_configuration" {
    for_each = var.kms_key_name == null ? [] : [var.kms_key_name]
    content {
      kms_key_name = default_encryption_configuration.value
    }
  }
}

resource "google_bigquery_dataset_iam_member" "writer" {
  project    = var.project_id
  dataset_id = google_bigquery_dataset.telemetry.dataset_id
  role       = "roles/bigquery.dataEditor"
  member     = google_service_account.dataflow.member
}

resource "google_dataflow_flex_template_job" "pipeline" {
  provider                     = google-beta
  project                      = var.project_id
  name                         = "${var.prefix}-telemetry"
  region                       = var.region
  container_spec_gcs_path      = var.flex_template.container_spec_gcs_path
  service_account_email        = google_service_account.dataflow.email
  temp_location                = "${google_storage_bucket.staging.url}/tmp"
  staging_location             = "${google_storage_bucket.staging.url}/staging"
  max_workers                  = var.flex_template.max_workers
  machine_type                 = var.flex_template.machine_type
  network                      = var.flex_template.network
  subnetwork                   = var.flex_template.subnetwork
  ip_configuration             = "WORKER_IP_PRIVATE"
  enable_streaming_engine      = true
  kms_key_name                 = var.kms_key_name
  on_delete                    = "drain"
  skip_wait_on_job_termination = false
  labels                       = var.labels
  parameters = merge({
    logs_subscription    = var.sources.logs_subscription
    metrics_subscription = var.sources.metrics_subscription
    warehouse            = "${var.project_id}:${google_bigquery_dataset.telemetry.dataset_id}"
    model_registry       = "gs://${var.model.bucket}/registry"
    model_version        = var.model.version
    window_seconds       = tostring(var.flex_template.window_seconds)
    metric_project       = var.project_id
    cluster_name         = var.cluster.name
    cluster_location     = var.cluster.location
  }, var.flex_template.extra_parameters)
  depends_on = [
    google_project_iam_member.dataflow,
    google_storage_bucket_iam_member.staging,
    google_pubsub_subscription_iam_member.subscriber,
  ]
}
