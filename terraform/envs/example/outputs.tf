output "healing_service_url" {
  description = "URL of the self-healing service."
  value       = module.healing_service.url
}

output "chatops_url" {
  description = "URL of the ChatOps service (Slack request URL: <url>/slack/commands)."
  value       = module.chatops.url
}

output "chat_secrets" {
  description = "Secrets to fill with `gcloud secrets versions add` before the first apply of the services."
  value       = module.chatops.secrets
}

output "image_repository" {
  description = "Artifact Registry path to push images to."
  value       = module.model.repository
}

output "alert_policies" {
  description = "Alert policy ids by name."
  value       = module.alerting.policies
}

output "healing_api_token_secret" {
  description = "Secret holding the healing API's bearer token (read by both services); fill it with `gcloud secrets versions add` before the first apply of the services."
  value       = module.healing_service.api_token_secret
}
