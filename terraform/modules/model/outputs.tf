output "bucket" {
  description = "Name of the model bucket (registry under `registry/`, pipeline root under `pipeline-root/`)."
  value       = google_storage_bucket.models.name
}

output "registry_uri" {
  description = "Model registry location the pipeline and the training job share."
  value       = "gs://${google_storage_bucket.models.name}/registry"
}

output "repository" {
  description = "Artifact Registry path for images, `REGION-docker.pkg.dev/PROJECT/REPO`."
  value       = "${var.region}-docker.pkg.dev/${var.project_id}/${google_artifact_registry_repository.images.repository_id}"
}

output "training_service_account" {
  description = "Email of the training service account."
  value       = google_service_account.training.email
}
