variable "project_id" {
  description = "Project of the Cloud Run service, its accounts, the push subscription and Firestore."
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
  description = "Cloud Run region."
  type        = string
}

variable "labels" {
  description = "Resource labels."
  type        = map(string)
  default     = {}
}

variable "image" {
  description = "Container image of the healing service (deploy/healing/Dockerfile), ideally by digest."
  type        = string
}

variable "mode" {
  description = "Start-up mode: observe (notify only), recommend (ask for approval) or enforce (act within guardrails)."
  type        = string
  default     = "observe"
  validation {
    condition     = contains(["observe", "recommend", "enforce"], var.mode)
    error_message = "mode must be observe, recommend or enforce."
  }
}

variable "cluster" {
  description = "The GKE cluster the service heals."
  type = object({
    name     = string
    location = string
  })
}

variable "alerts_topic" {
  description = "Id of the alerts topic the Monitoring notification channel publishes to (alerting module)."
  type        = string
}

variable "chatops_url" {
  description = "Base URL of the ChatOps service (chatops module); null sends no chat notifications."
  type        = string
  default     = null
}

variable "api_invokers" {
  description = "Members allowed to call the service's API besides the push account, e.g. ChatOps' service account."
  type        = map(string)
  default     = {}
}

variable "guardrails" {
  description = "Limits every action passes. By default a human approves each rollback, cordon and drain, even in enforce mode; kube-system is always out of scope."
  type = object({
    approval_actions        = optional(list(string), ["rollout_undo", "cordon", "drain"])
    allowed_namespaces      = optional(list(string), [])
    excluded_namespaces     = optional(list(string), ["kube-public", "gke-managed-system"])
    label_selector          = optional(string, "")
    cooldown_seconds        = optional(number, 600)
    target_actions_per_hour = optional(number, 3)
    global_actions_per_hour = optional(number, 20)
  })
  default  = {}
  nullable = false
  validation {
    condition = alltrue([
      for a in var.guardrails.approval_actions :
      contains(["delete_pod", "rollout_restart", "scale", "rollout_undo", "cordon", "drain"], a)
    ])
    error_message = "guardrails.approval_actions may list delete_pod, rollout_restart, scale, rollout_undo, cordon and drain."
  }
}

variable "service" {
  description = "Cloud Run settings and extra HEAL_* environment variables."
  type = object({
    min_instances       = optional(number, 1)
    max_instances       = optional(number, 3)
    cpu                 = optional(string, "1")
    memory              = optional(string, "512Mi")
    concurrency         = optional(number, 40)
    deletion_protection = optional(bool, true)
    env                 = optional(map(string), {})
  })
  default  = {}
  nullable = false
  validation {
    condition     = alltrue([for k in keys(var.service.env) : startswith(k, "HEAL_")])
    error_message = "service.env keys must start with HEAL_ (the service's settings prefix)."
  }
}

variable "firestore" {
  description = "Firestore database for the audit log and claims: location and protection."
  type = object({
    location_id            = optional(string)
    delete_protection      = optional(bool, true)
    point_in_time_recovery = optional(bool, true)
  })
  default  = {}
  nullable = false
}

variable "push" {
  description = "Push subscription settings: ack deadline and delivery attempts before dead-lettering."
  type = object({
    ack_deadline_seconds  = optional(number, 30)
    max_delivery_attempts = optional(number, 10)
  })
  default  = {}
  nullable = false
}

variable "kms_key_name" {
  description = "Cloud KMS key for the dead-letter topic; null uses Google-managed encryption."
  type        = string
  default     = null
}

variable "secret_kms_key_name" {
  description = "Cloud KMS key for the API token secret (user-managed replication in `region`); null uses automatic replication."
  type        = string
  default     = null
}
