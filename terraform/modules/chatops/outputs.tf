output "service_account" {
  description = "Email of the ChatOps service account (give it to the healing module's `api_invokers`)."
  value       = google_service_account.chatops.email
}

output "url" {
  description = "URL of the service (deterministic; equals the service's `uri` once deployed)."
  value       = local.url
}

output "secrets" {
  description = "Secret ids by environment variable; add versions with `gcloud secrets versions add`."
  value       = { for k, s in google_secret_manager_secret.chat : k => s.secret_id }
}

output "env" {
  description = "Plain environment the service runs with (names and values; secrets excluded)."
  value       = local.env
}
