locals {
  name = "${var.prefix}-chatops"
  url  = "https://${local.name}-${data.google_project.this.number}.${var.region}.run.app"

  # Secret values are added with `gcloud secrets versions add`, never through Terraform, so they
  # stay out of the state. Key: environment variable the service reads (prefix CHATOPS_).
  secrets = merge(
    var.chat.slack_enabled ? {
      CHATOPS_SLACK_BOT_TOKEN      = "${var.prefix}-slack-bot-token"
      CHATOPS_SLACK_SIGNING_SECRET = "${var.prefix}-slack-signing-secret"
    } : {},
    var.chat.teams_enabled ? {
      CHATOPS_TEAMS_WEBHOOK_URL = "${var.prefix}-teams-webhook-url"
      CHATOPS_TEAMS_HMAC_SECRET = "${var.prefix}-teams-hmac-secret"
    } : {},
  )

  # Read by chatops.settings (prefix CHATOPS_); tests compare these names with it.
  env = merge({
    CHATOPS_HEALING_URL = var.healing_service.url
    # The healing service sits behind Cloud Run IAM: send our ID token as well as its API token.
    CHATOPS_HEALING_IAM            = "true"
    CHATOPS_AUTH                   = "oidc"
    CHATOPS_NOTIFY_AUDIENCE        = local.url
    CHATOPS_NOTIFY_SERVICE_ACCOUNT = var.healing_service.service_account
    CHATOPS_SLACK_CHANNEL          = var.chat.slack_channel
    CHATOPS_PUBLIC_URL             = local.url
    # Cloud Run's only writable place; the state is per instance (see service.max_instances).
    CHATOPS_DB_PATH = "/tmp/chatops.sqlite3"
  }, var.service.env)
}

data "google_project" "this" {
  project_id = var.project_id
}

resource "google_service_account" "chatops" {
  project      = var.project_id
  account_id   = "${var.prefix}-chatops"
  display_name = "${var.prefix} ChatOps service"
}

resource "google_secret_manager_secret" "chat" {
  for_each  = local.secrets
  project   = var.project_id
  secret_id = each.value
  labels    = var.labels
  replication {
    dynamic "auto" {
      for_each = var.secret_kms_key_name == null ? [1] : []
      content {}
    }
    dynamic "user_managed" {
      for_each = var.secret_kms_key_name == null ? [] : [var.secret_kms_key_name]
      content {
        replicas {
          location = var.region
          customer_managed_encryption {
            kms_key_name = user_managed.value
          }
        }
      }
    }
  }
}

resource "google_secret_manager_secret_iam_member" "chatops" {
  for_each  = local.secrets
  project   = var.project_id
  secret_id = google_secret_manager_secret.chat[each.key].secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = google_service_account.chatops.member
}

# The healing API's bearer token: the secret belongs to the healing module, ChatOps only reads it.
resource "google_secret_manager_secret_iam_member" "healing_token" {
  project   = var.project_id
  secret_id = var.healing_service.api_token_secret
  role      = "roles/secretmanager.secretAccessor"
  member    = google_service_account.chatops.member
}

resource "google_cloud_run_v2_service" "chatops" {
  project             = var.project_id
  name                = local.name
  location            = var.region
  labels              = var.labels
  ingress             = "INGRESS_TRAFFIC_ALL"
  deletion_protection = var.service.deletion_protection
  template {
    service_account = google_service_account.chatops.email
    scaling {
      min_instance_count = var.service.min_instances
      max_instance_count = var.service.max_instances
    }
    containers {
      image = var.image
      ports {
        container_port = 8080
      }
      resources {
        limits = {
          cpu    = var.service.cpu
          memory = var.service.memory
        }
      }
      dynamic "env" {
        for_each = local.env
        content {
          name  = env.key
          value = env.value
        }
      }
      dynamic "env" {
        for_each = local.secrets
        content {
          name = env.key
          value_source {
            secret_key_ref {
              secret  = google_secret_manager_secret.chat[env.key].secret_id
              version = "latest"
            }
          }
        }
      }
      env {
        name = "CHATOPS_HEALING_TOKEN"
        value_source {
          secret_key_ref {
            secret  = var.healing_service.api_token_secret
            version = "latest"
          }
        }
      }
    }
  }
  depends_on = [
    google_secret_manager_secret_iam_member.chatops,
    google_secret_manager_secret_iam_member.healing_token,
  ]
}

# Only the healing service may call ChatOps (POST /notify) ...
resource "google_cloud_run_v2_service_iam_member" "healing_invoker" {
  project  = var.project_id
  location = var.region
  name     = google_cloud_run_v2_service.chatops.name
  role     = "roles/run.invoker"
  member   = "serviceAccount:${var.healing_service.service_account}"
}

# ... unless chat platforms must reach the command endpoints, which verify signatures in-app.
resource "google_cloud_run_v2_service_iam_member" "public_callbacks" {
  count    = var.public_callbacks ? 1 : 0
  project  = var.project_id
  location = var.region
  name     = google_cloud_run_v2_service.chatops.name
  role     = "roles/run.invoker"
  member   = "allUsers"
}
