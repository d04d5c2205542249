locals {
  name = "${var.prefix}-healing"
  # Cloud Run's deterministic URL, known before the service exists: the push audience and the
  # ChatOps module need it, and using the service's own `uri` would make a reference cycle.
  url           = "https://${local.name}-${data.google_project.this.number}.${var.region}.run.app"
  pubsub_agent  = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-pubsub.iam.gserviceaccount.com"
  database_name = "${var.prefix}-healing"

  # Read by self_healing_service.settings (prefix HEAL_); tests compare these names with it.
  env = merge({
    HEAL_MODE                 = var.mode
    HEAL_PROJECT_ID           = var.project_id
    HEAL_CLUSTER_NAME         = var.cluster.name
    HEAL_CLUSTER_LOCATION     = var.cluster.location
    HEAL_STORE                = "firestore"
    HEAL_FIRESTORE_DATABASE   = local.database_name
    HEAL_PUSH_AUTH            = "oidc"
    HEAL_PUSH_AUDIENCE        = local.url
    HEAL_PUSH_SERVICE_ACCOUNT = google_service_account.push.email
    HEAL_CHATOPS_URL          = coalesce(var.chatops_url, "")
    # ChatOps sits behind Cloud Run IAM: /notify carries a Google ID token of our account.
    HEAL_CHATOPS_AUTH = "oidc"
    HEAL_PUBLIC_URL   = local.url
    # The guardrails (lists as JSON, as pydantic-settings reads them).
    HEAL_APPROVAL_ACTIONS        = jsonencode(var.guardrails.approval_actions)
    HEAL_ALLOWED_NAMESPACES      = jsonencode(var.guardrails.allowed_namespaces)
    HEAL_EXCLUDED_NAMESPACES     = jsonencode(var.guardrails.excluded_namespaces)
    HEAL_LABEL_SELECTOR          = var.guardrails.label_selector
    HEAL_COOLDOWN_SECONDS        = tostring(var.guardrails.cooldown_seconds)
    HEAL_TARGET_ACTIONS_PER_HOUR = tostring(var.guardrails.target_actions_per_hour)
    HEAL_GLOBAL_ACTIONS_PER_HOUR = tostring(var.guardrails.global_actions_per_hour)
  }, var.service.env)

  # The /api/v1 bearer token (ChatOps reads the same secret). Its value is added with
  # `gcloud secrets versions add`, never through Terraform, so it stays out of the state.
  secrets = {
    HEAL_API_TOKEN = google_secret_manager_secret.api_token.secret_id
  }
}

data "google_project" "this" {
  project_id = var.project_id
}

resource "google_service_account" "healing" {
  project      = var.project_id
  account_id   = "${var.prefix}-healing"
  display_name = "${var.prefix} self-healing service"
}

resource "google_project_iam_member" "healing_monitoring_viewer" {
  project = var.project_id
  role    = "roles/monitoring.viewer"
  member  = google_service_account.healing.member
}

resource "google_firestore_database" "audit" {
  project                           = var.project_id
  name                              = local.database_name
  location_id                       = coalesce(var.firestore.location_id, var.region)
  type                              = "FIRESTORE_NATIVE"
  concurrency_mode                  = "PESSIMISTIC"
  point_in_time_recovery_enablement = var.firestore.point_in_time_recovery ? "POINT_IN_TIME_RECOVERY_ENABLED" : "POINT_IN_TIME_RECOVERY_DISABLED"
  delete_protection_state           = var.firestore.delete_protection ? "DELETE_PROTECTION_ENABLED" : "DELETE_PROTECTION_DISABLED"
  deletion_policy                   = var.firestore.delete_protection ? "ABANDON" : "DELETE"
}

# Access to this database only, not to every database of the project.
resource "google_project_iam_member" "healing_firestore" {
  project = var.project_id
  role    = "roles/datastore.user"
  member  = google_service_account.healing.member
  condition {
    title      = "${var.prefix}-healing-database-only"
    expression = "resource.name == \"${google_firestore_database.audit.id}\""
  }
}

resource "google_secret_manager_secret" "api_token" {
  project   = var.project_id
  secret_id = "${var.prefix}-heal-api-token"
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

resource "google_secret_manager_secret_iam_member" "healing_api_token" {
  project   = var.project_id
  secret_id = google_secret_manager_secret.api_token.secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = google_service_account.healing.member
}

resource "google_cloud_run_v2_service" "healing" {
  project             = var.project_id
  name                = local.name
  location            = var.region
  labels              = var.labels
  ingress             = "INGRESS_TRAFFIC_ALL"
  deletion_protection = var.service.deletion_protection
  template {
    service_account                  = google_service_account.healing.email
    max_instance_request_concurrency = var.service.concurrency
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
        # Work continues after the acknowledgement (act asynchronously), so keep the CPU.
        cpu_idle = false
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
              secret  = env.value
              version = "latest"
            }
          }
        }
      }
    }
  }
  depends_on = [
    google_project_iam_member.healing_firestore,
    google_secret_manager_secret_iam_member.healing_api_token,
  ]
}

# --- Alert intake: push subscription with an OIDC token, dead letters kept ---

resource "google_service_account" "push" {
  project      = var.project_id
  account_id   = "${var.prefix}-alerts-push"
  display_name = "${var.prefix} alerts push identity"
}

resource "google_cloud_run_v2_service_iam_member" "push_invoker" {
  project  = var.project_id
  location = var.region
  name     = google_cloud_run_v2_service.healing.name
  role     = "roles/run.invoker"
  member   = google_service_account.push.member
}

resource "google_cloud_run_v2_service_iam_member" "api_invokers" {
  for_each = var.api_invokers
  project  = var.project_id
  location = var.region
  name     = google_cloud_run_v2_service.healing.name
  role     = "roles/run.invoker"
  member   = each.value
}

# Pub/Sub mints the push OIDC tokens as the push account.
resource "google_service_account_iam_member" "pubsub_token_creator" {
  service_account_id = google_service_account.push.name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = local.pubsub_agent
}

resource "google_pubsub_topic" "dead_letter" {
  project                    = var.project_id
  name                       = "${var.prefix}-alerts-dlq"
  labels                     = var.labels
  message_retention_duration = "604800s"
  kms_key_name               = var.kms_key_name
}

resource "google_pubsub_subscription" "dead_letter" {
  project                    = var.project_id
  name                       = "${var.prefix}-alerts-dlq-inspect"
  topic                      = google_pubsub_topic.dead_letter.id
  labels                     = var.labels
  message_retention_duration = "604800s"
}

resource "google_pubsub_subscription" "push" {
  project              = var.project_id
  name                 = "${var.prefix}-alerts-to-healing"
  topic                = var.alerts_topic
  labels               = var.labels
  ack_deadline_seconds = var.push.ack_deadline_seconds
  push_config {
    push_endpoint = "${local.url}/alerts/pubsub"
    oidc_token {
      service_account_email = google_service_account.push.email
      audience              = local.url
    }
  }
  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.dead_letter.id
    max_delivery_attempts = var.push.max_delivery_attempts
  }
  retry_policy {
    minimum_backoff = "10s"
    maximum_backoff = "600s"
  }
  depends_on = [google_cloud_run_v2_service_iam_member.push_invoker]
}

resource "google_pubsub_topic_iam_member" "dead_letter_publisher" {
  project = var.project_id
  topic   = google_pubsub_topic.dead_letter.name
  role    = "roles/pubsub.publisher"
  member  = local.pubsub_agent
}

resource "google_pubsub_subscription_iam_member" "dead_letter_subscriber" {
  project      = var.project_id
  subscription = google_pubsub_subscription.push.name
  role         = "roles/pubsub.subscriber"
  member       = local.pubsub_agent
}
