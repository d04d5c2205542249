# A complete deployment: every module, wired together. Copy this folder to start your own.

locals {
  services = toset([
    "aiplatform.googleapis.com",
    "artifactregistry.googleapis.com",
    "bigquery.googleapis.com",
    "cloudscheduler.googleapis.com",
    "container.googleapis.com",
    "dataflow.googleapis.com",
    "firestore.googleapis.com",
    "logging.googleapis.com",
    "monitoring.googleapis.com",
    "pubsub.googleapis.com",
    "run.googleapis.com",
    "secretmanager.googleapis.com",
  ])
}

provider "google" {
  project = var.project_id
  region  = var.region
}

provider "google-beta" {
  project = var.project_id
  region  = var.region
}

data "google_client_config" "current" {}

data "google_container_cluster" "target" {
  project  = var.project_id
  name     = var.cluster.name
  location = var.cluster.location
}

provider "kubernetes" {
  host                   = "https://${data.google_container_cluster.target.endpoint}"
  token                  = data.google_client_config.current.access_token
  cluster_ca_certificate = base64decode(data.google_container_cluster.target.master_auth[0].cluster_ca_certificate)
}

resource "google_project_service" "apis" {
  for_each           = local.services
  project            = var.project_id
  service            = each.value
  disable_on_destroy = false
}

module "telemetry" {
  source     = "../../modules/telemetry"
  project_id = var.project_id
  prefix     = var.prefix
  region     = var.region
  cluster    = var.cluster
  labels     = var.labels
  exporter = {
    image = var.images.metrics_exporter
  }
  depends_on = [google_project_service.apis]
}

module "model" {
  source     = "../../modules/model"
  project_id = var.project_id
  prefix     = var.prefix
  region     = var.region
  labels     = var.labels
  repository_readers = {
    healing = "serviceAccount:${module.healing_service.service_account}"
    chatops = "serviceAccount:${module.chatops.service_account}"
  }
  depends_on = [google_project_service.apis]
}

module "pipeline" {
  source     = "../../modules/pipeline"
  project_id = var.project_id
  prefix     = var.prefix
  region     = var.region
  cluster    = var.cluster
  labels     = var.labels
  sources = {
    logs_subscription         = module.telemetry.subscriptions["logs"]
    metrics_subscription      = module.telemetry.subscriptions["metrics"]
    logs_subscription_name    = module.telemetry.subscription_names["logs"]
    metrics_subscription_name = module.telemetry.subscription_names["metrics"]
  }
  model = {
    bucket = module.model.bucket
  }
  flex_template = {
    container_spec_gcs_path = var.dataflow_template
  }
}

module "alerting" {
  source     = "../../modules/alerting"
  project_id = var.project_id
  prefix     = var.prefix
  labels     = var.labels
  depends_on = [google_project_service.apis]
}

module "healing_service" {
  source       = "../../modules/healing_service"
  project_id   = var.project_id
  prefix       = var.prefix
  region       = var.region
  labels       = var.labels
  image        = var.images.healing
  mode         = var.healing_mode
  cluster      = var.cluster
  alerts_topic = module.alerting.alerts_topic
  chatops_url  = module.chatops.url
  api_invokers = {
    chatops = "serviceAccount:${module.chatops.service_account}"
  }
}

module "chatops" {
  source           = "../../modules/chatops"
  project_id       = var.project_id
  prefix           = var.prefix
  region           = var.region
  labels           = var.labels
  image            = var.images.chatops
  chat             = var.chat
  public_callbacks = var.public_chat_callbacks
  healing_service = {
    url              = module.healing_service.url
    service_account  = module.healing_service.service_account
    api_token_secret = module.healing_service.api_token_secret
  }
}

module "gke_access" {
  source                  = "../../modules/gke_access"
  project_id              = var.project_id
  prefix                  = var.prefix
  healing_service_account = module.healing_service.service_account
}
