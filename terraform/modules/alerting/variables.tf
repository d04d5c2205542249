variable "project_id" {
  description = "Project that holds the alert policies, the notification channel and the alerts topic."
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

variable "policies_file" {
  description = "Path of the policy definition; null uses the module's policies.json (the single source of truth)."
  type        = string
  default     = null
}

variable "extra_user_labels" {
  description = "User labels added to every policy; the definition's own labels win on conflict."
  type        = map(string)
  default     = {}
}

variable "labels" {
  description = "Resource labels for the alerts topic."
  type        = map(string)
  default     = {}
}

variable "topic_config" {
  description = "Alerts topic settings: message retention and an optional Cloud KMS key."
  type = object({
    message_retention_duration = optional(string, "86400s")
    kms_key_name               = optional(string)
  })
  default  = {}
  nullable = false
}

variable "enabled" {
  description = "Whether the alert policies notify (disable to silence every policy at once)."
  type        = bool
  default     = true
}
