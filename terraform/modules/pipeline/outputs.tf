output "service_account" {
  description = "Email of the Dataflow worker service account."
  value       = google_service_account.dataflow.email
}

output "staging_bucket" {
  description = "Name of the staging bucket."
  value       = google_storage_bucket.staging.name
}

output "dataset_id" {
  description = "BigQuery dataset of the telemetry warehouse."
  value       = google_bigquery_dataset.telemetry.dataset_id
}

output "job_id" {
  description = "Id of the running Dataflow job."
  value       = google_dataflow_flex_template_job.pipeline.job_id
}
