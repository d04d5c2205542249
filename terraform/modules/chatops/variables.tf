variable "project_id" {
  description = "Project of the ChatOps service and its secrets."
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
  description = "Container image of the ChatOps service (deploy/chatops/Dockerfile), ideally by digest."
  type        = string
}

variable "healing_service" {
  description = "The healing service: its URL (ChatOps calls its API), its account (the only invoker of /notify) and the secret id of its API token (healing module output `api_token_secret`)."
  type = object({
    url              = string
    service_account  = string
    api_token_secret = string
  })
}

variable "chat" {
  description = "Which chat platforms are used and where messages go; credentials live in Secret Manager."
  type = object({
    slack_enabled = optional(bool, true)
    slack_channel = optional(string, "")
    teams_enabled = optional(bool, false)
  })
  default  = {}
  nullable = false
}

variable "public_callbacks" {
  description = "Let Slack and Teams reach the command endpoints (allUsers invoker; requests are verified in-app by signature). Off: only the healing service can invoke."
  type        = bool
  default     = false
}

variable "service" {
  description = "Cloud Run settings and extra CHATOPS_* environment variables."
  type = object({
    min_instances = optional(number, 0)
    # One instance: threads, outbox and dedupe live in the instance's SQLite file.
    max_instances       = optional(number, 1)
    cpu                 = optional(string, "1")
    memory              = optional(string, "512Mi")
    deletion_protection = optional(bool, true)
    env                 = optional(map(string), {})
  })
  default  = {}
  nullable = false
  validation {
    condition     = alltrue([for k in keys(var.service.env) : startswith(k, "CHATOPS_")])
    error_message = "service.env keys must start with CHATOPS_ (the service's settings prefix)."
  }
}

variable "secret_kms_key_name" {
  description = "Cloud KMS key for the secrets (user-managed replication in `region`); null uses automatic replication."
  type        = string
  default     = null
}
