variable "project_id" {
  description = "Project to deploy into (it holds the GKE cluster)."
  type        = string
}

variable "prefix" {
  description = "Prefix for every resource name."
  type        = string
  default     = "gke-heal"
}

variable "region" {
  description = "Region for Cloud Run, Dataflow, Vertex AI, buckets and datasets."
  type        = string
}

variable "cluster" {
  description = "The existing GKE cluster to watch and heal."
  type = object({
    name     = string
    location = string
  })
}

variable "images" {
  description = "Image references built by deploy/cloudbuild.yaml (tag or digest), by service."
  type = object({
    healing          = string
    chatops          = string
    metrics_exporter = string
  })
}

variable "dataflow_template" {
  description = "GCS path of the Flex Template spec built from deploy/dataflow."
  type        = string
}

variable "healing_mode" {
  description = "observe (first run), recommend or enforce."
  type        = string
  default     = "observe"
}

variable "chat" {
  description = "Chat platforms and channel."
  type = object({
    slack_enabled = optional(bool, true)
    slack_channel = optional(string, "")
    teams_enabled = optional(bool, false)
  })
  default = {}
}

variable "public_chat_callbacks" {
  description = "Let Slack/Teams reach ChatOps' command endpoints (verified in-app by signature)."
  type        = bool
  default     = false
}

variable "labels" {
  description = "Labels put on every resource that takes them."
  type        = map(string)
  default     = { app = "gke-heal" }
}
