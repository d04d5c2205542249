variable "project_id" {
  description = "Project of the GKE cluster."
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

variable "healing_service_account" {
  description = "Email of the healing service's Google service account (healing_service module output)."
  type        = string
}

variable "grant_cluster_viewer" {
  description = "Grant roles/container.clusterViewer on the project, needed to read the cluster endpoint."
  type        = bool
  default     = true
}
