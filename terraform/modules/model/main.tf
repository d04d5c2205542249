locals {
  training_roles = toset([
    "roles/aiplatform.user",
    "roles/bigquery.jobUser",
    "roles/bigquery.dataViewer",
  ])
  template_uri = coalesce(var.retraining.template_uri, "gs://${google_storage_bucket.models.name}/pipelines/retrain.yaml")
  pipeline_body = {
    displayName    = "${var.prefix}-retrain"
    templateUri    = local.template_uri
    serviceAccount = google_service_account.training.email
    labels         = var.labels
    runtimeConfig = {
      gcsOutputDirectory = "gs://${google_storage_bucket.models.name}/pipeline-root"
      parameterValues = merge({
        project           = var.project_id
        region            = var.region
        registry          = "gs://${google_storage_bucket.models.name}/registry"
        telemetry_dataset = coalesce(var.retraining.telemetry_dataset, "${replace(var.prefix, "-", "_")}_telemetry")
        training_image    = "${var.region}-docker.pkg.dev/${var.project_id}/${google_artifact_registry_repository.images.repository_id}/training:latest"
      }, var.retraining.parameter_values)
    }
  }
}

resource "google_artifact_registry_repository" "images" {
  project       = var.project_id
  location      = var.region
  repository_id = "${var.prefix}-images"
  description   = "gke-heal container images (healing service, ChatOps, training, Dataflow template)."
  format        = "DOCKER"
  labels        = var.labels
  kms_key_name  = var.kms_key_name
  docker_config {
    immutable_tags = false
  }
}

resource "google_artifact_registry_repository_iam_member" "readers" {
  for_each   = var.repository_readers
  project    = var.project_id
  location   = var.region
  repository = google_artifact_registry_repository.images.name
  role       = "roles/artifactregistry.reader"
  member     = each.value
}

resource "google_storage_bucket" "models" {
  #checkov:skip=CKV_GCP_62:Usage logs need a second bucket the operator chooses; Cloud Audit Logs (Data Access) record object access.
  project                     = var.project_id
  name                        = "${var.prefix}-${var.project_id}-models"
  location                    = var.region
  labels                      = var.labels
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  versioning {
    enabled = true
  }
  dynamic "encryption" {
    for_each = var.kms_key_name == null ? [] : [var.kms_key_name]
    content {
      default_kms_key_name = encryption.value
    }
  }
}

resource "google_service_account" "training" {
  project      = var.project_id
  account_id   = "${var.prefix}-training"
  display_name = "${var.prefix} model training (Vertex AI)"
}

resource "google_project_iam_member" "training" {
  for_each = local.training_roles
  project  = var.project_id
  role     = each.value
  member   = google_service_account.training.member
}

resource "google_storage_bucket_iam_member" "training" {
  bucket = google_storage_bucket.models.name
  role   = "roles/storage.objectAdmin"
  member = google_service_account.training.member
}

resource "google_artifact_registry_repository_iam_member" "training" {
  project    = var.project_id
  location   = var.region
  repository = google_artifact_registry_repository.images.name
  role       = "roles/artifactregistry.reader"
  member     = google_service_account.training.member
}

# Retraining: Cloud Scheduler starts a Vertex AI pipeline run of the compiled KFP spec.
resource "google_service_account" "scheduler" {
  project      = var.project_id
  account_id   = "${var.prefix}-retrain-trigger"
  display_name = "${var.prefix} retraining trigger"
}

resource "google_project_iam_member" "scheduler_vertex" {
  project = var.project_id
  role    = "roles/aiplatform.user"
  member  = google_service_account.scheduler.member
}

# The trigger submits runs that act as the training account, so it must be allowed to.
resource "google_service_account_iam_member" "scheduler_acts_as_training" {
  service_account_id = google_service_account.training.name
  role               = "roles/iam.serviceAccountUser"
  member             = google_service_account.scheduler.member
}

resource "google_cloud_scheduler_job" "retrain" {
  count       = var.retraining.enabled ? 1 : 0
  project     = var.project_id
  name        = "${var.prefix}-retrain"
  region      = var.region
  description = "Starts the gke-heal retraining pipeline on Vertex AI."
  schedule    = var.retraining.schedule
  time_zone   = var.retraining.time_zone
  http_target {
    http_method = "POST"
    uri         = "https://${var.region}-aiplatform.googleapis.com/v1/projects/${var.project_id}/locations/${var.region}/pipelineJobs"
    body        = base64encode(jsonencode(local.pipeline_body))
    headers = {
      "Content-Type" = "application/json"
    }
    oauth_token {
      service_account_email = google_service_account.scheduler.email
    }
  }
}
