output "cluster_role" {
  description = "Name of the ClusterRole holding the healing service's permissions."
  value       = kubernetes_cluster_role_v1.healer.metadata[0].name
}

output "rules" {
  description = "The RBAC rules granted (api_groups, resources, verbs)."
  value       = local.rules
}
