variable "project_id" {
  description = "Project for the model bucket, the image repository and Vertex AI."
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
  description = "Region of Vertex AI, the bucket, the repository and the retraining schedule."
  type        = string
}

variable "labels" {
  description = "Resource labels."
  type        = map(string)
  default     = {}
}

variable "repository_readers" {
  description = "Members that may pull images from the Artifact Registry repository (e.g. the services' accounts)."
  type        = map(string)
  default     = {}
}

variable "retraining" {
  description = "Retraining schedule: the compiled KFP pipeline spec in GCS, the cron schedule and pipeline parameters."
  type = object({
    enabled           = optional(bool, true)
    template_uri      = optional(string)
    schedule          = optional(string, "0 3 * * 1")
    time_zone         = optional(string, "Etc/UTC")
    telemetry_dataset = optional(string)
    parameter_values  = optional(map(string), {})
  })
  default  = {}
  nullable = false
}

variable "kms_key_name" {
  description = "Cloud KMS key for the bucket and the repository; null uses Google-managed encryption."
  type        = string
  default     = null
}
