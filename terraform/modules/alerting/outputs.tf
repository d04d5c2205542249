output "alerts_topic" {
  description = "Pub/Sub topic the alert notices are published to (id, `projects/P/topics/T`)."
  value       = google_pubsub_topic.alerts.id
}

output "alerts_topic_name" {
  description = "Short name of the alerts topic."
  value       = google_pubsub_topic.alerts.name
}

output "notification_channel" {
  description = "Id of the Pub/Sub notification channel."
  value       = google_monitoring_notification_channel.pubsub.id
}

output "policies" {
  description = "Alert policy ids by policy name."
  value       = { for k, p in google_monitoring_alert_policy.anomaly : k => p.name }
}

output "metric_type" {
  description = "The anomaly metric the policies watch."
  value       = google_monitoring_metric_descriptor.anomaly_score.type
}
