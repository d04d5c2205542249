variable "project_id" {
  description = "Project of the cluster, the topics, the log sinks and the exporter."
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
  description = "Region of the exporter job, its schedule and the BigQuery dataset."
  type        = string
}

variable "cluster" {
  description = "The GKE cluster whose logs and metrics are exported."
  type = object({
    name     = string
    location = string
  })
}

variable "labels" {
  description = "Resource labels for topics, dataset and job."
  type        = map(string)
  default     = {}
}

variable "log_sink" {
  description = "Which log entries go to Pub/Sub and BigQuery; `extra_filter` is ANDed to the cluster filter."
  type = object({
    include_events        = optional(bool, true)
    extra_filter          = optional(string)
    bigquery_enabled      = optional(bool, true)
    table_expiration_days = optional(number, 30)
  })
  default  = {}
  nullable = false
}

variable "pubsub" {
  description = "Telemetry topic and subscription settings (retention, ack deadline, dead-letter attempts, Cloud KMS key)."
  type = object({
    message_retention_duration = optional(string, "86400s")
    ack_deadline_seconds       = optional(number, 60)
    max_delivery_attempts      = optional(number, 10)
    kms_key_name               = optional(string)
  })
  default  = {}
  nullable = false
}

variable "exporter" {
  description = "The metrics exporter (Cloud Run job) and its Cloud Scheduler trigger."
  type = object({
    image           = string
    schedule        = optional(string, "* * * * *")
    time_zone       = optional(string, "Etc/UTC")
    metric_prefixes = optional(list(string), ["kubernetes.io/container/", "kubernetes.io/pod/", "kubernetes.io/node/"])
    cpu             = optional(string, "1")
    memory          = optional(string, "512Mi")
    timeout         = optional(string, "300s")
  })
}

variable "bigquery_kms_key_name" {
  description = "Cloud KMS key for the log dataset; null uses Google-managed encryption."
  type        = string
  default     = null
}
