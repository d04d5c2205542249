output "service_account" {
  description = "Email of the healing service's account (bind Kubernetes RBAC to it: gke_access module)."
  value       = google_service_account.healing.email
}

output "url" {
  description = "URL of the service (deterministic; equals the service's `uri` once deployed)."
  value       = local.url
}

output "service_name" {
  description = "Name of the Cloud Run service."
  value       = google_cloud_run_v2_service.healing.name
}

output "push_subscription" {
  description = "Id of the alerts push subscription."
  value       = google_pubsub_subscription.push.id
}

output "push_service_account" {
  description = "Email of the identity in the push OIDC tokens."
  value       = google_service_account.push.email
}

output "firestore_database" {
  description = "Name of the Firestore database holding the audit log."
  value       = google_firestore_database.audit.name
}

output "api_token_secret" {
  description = "Secret id of the /api/v1 bearer token (HEAL_API_TOKEN); add its value with `gcloud secrets versions add`, give it to the chatops module."
  value       = google_secret_manager_secret.api_token.secret_id
}

output "env" {
  description = "Environment the service runs with (names and values; holds no secrets)."
  value       = local.env
}
