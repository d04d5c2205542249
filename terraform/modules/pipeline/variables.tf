variable "project_id" {
  description = "Project that runs the Dataflow job and holds its bucket and dataset."
  type        = string
}

variable "prefix" {
  description = "Prefix for every resource name (lower-case letters, digits and '-')."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,18}[a-z0-9]$", var.prefix))
    error_message = "prefix must be 3-20 lower-case letters, digits or '-', starting with a letter."
  }
}

variable "region" {
  description = "Dataflow region; also the location of the staging bucket and the dataset."
  type        = string
}

variable "cluster" {
  description = "The GKE cluster whose telemetry the pipeline reads (labels of the anomaly metric)."
  type = object({
    name     = string
    location = string
  })
}

variable "labels" {
  description = "Resource labels."
  type        = map(string)
  default     = {}
}

variable "sources" {
  description = "Pub/Sub subscriptions the pipeline reads, as ids and names (from the telemetry module)."
  type = object({
    logs_subscription         = string
    metrics_subscription      = string
    logs_subscription_name    = string
    metrics_subscription_name = string
  })
}

variable "model" {
  description = "Where the pipeline loads the scoring model from (the model module's registry bucket)."
  type = object({
    bucket  = string
    version = optional(string, "latest")
  })
}

variable "flex_template" {
  description = "The Flex Template spec in GCS and the job's runtime options."
  type = object({
    container_spec_gcs_path = string
    max_workers             = optional(number, 3)
    machine_type            = optional(string, "n2-standard-2")
    window_seconds          = optional(number, 60)
    network                 = optional(string)
    subnetwork              = optional(string)
    extra_parameters        = optional(map(string), {})
  })
}

variable "kms_key_name" {
  description = "Cloud KMS key for the bucket and the dataset; null uses Google-managed encryption."
  type        = string
  default     = null
}
