output "topics" {
  description = "Telemetry topic ids by stream (`logs`, `metrics`)."
  value       = { for k, t in google_pubsub_topic.stream : k => t.id }
}

output "subscriptions" {
  description = "The pipeline's subscription ids by stream (`logs`, `metrics`)."
  value       = { for k, s in google_pubsub_subscription.pipeline : k => s.id }
}

output "subscription_names" {
  description = "The pipeline's subscription names by stream, for IAM bindings."
  value       = { for k, s in google_pubsub_subscription.pipeline : k => s.name }
}

output "dead_letter_topics" {
  description = "Dead-letter topic ids by stream."
  value       = { for k, t in google_pubsub_topic.dead_letter : k => t.id }
}

output "log_dataset_id" {
  description = "BigQuery dataset that receives the log sink (null when disabled)."
  value       = var.log_sink.bigquery_enabled ? google_bigquery_dataset.logs[0].dataset_id : null
}

output "exporter_service_account" {
  description = "Email of the metrics exporter's service account."
  value       = google_service_account.exporter.email
}

output "exporter_job" {
  description = "Id of the metrics exporter Cloud Run job."
  value       = google_cloud_run_v2_job.exporter.id
}
