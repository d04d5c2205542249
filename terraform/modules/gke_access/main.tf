# Least privilege for the healing service's action catalogue, and nothing else. The same rules
# are in deploy/kubernetes/rbac.yaml for in-cluster installs; a test keeps the two equal.
locals {
  rules = [
    { api_groups = [""], resources = ["pods"], verbs = ["get", "list", "watch", "delete"] },
    { api_groups = [""], resources = ["pods/log"], verbs = ["get"] },
    { api_groups = [""], resources = ["pods/eviction"], verbs = ["create"] },
    { api_groups = [""], resources = ["events"], verbs = ["get", "list", "watch"] },
    { api_groups = [""], resources = ["nodes"], verbs = ["get", "list", "watch", "patch"] },
    { api_groups = ["apps"], resources = ["deployments"], verbs = ["get", "list", "watch", "patch"] },
    { api_groups = ["apps"], resources = ["deployments/scale"], verbs = ["update", "patch"] },
    { api_groups = ["apps"], resources = ["replicasets"], verbs = ["get", "list", "watch"] },
    { api_groups = ["policy"], resources = ["poddisruptionbudgets"], verbs = ["get", "list", "watch"] },
    { api_groups = ["autoscaling"], resources = ["horizontalpodautoscalers"], verbs = ["get", "list", "watch"] },
    { api_groups = ["metrics.k8s.io"], resources = ["pods"], verbs = ["get", "list"] },
  ]
}

# GKE maps a Google identity to the Kubernetes user named by its email.
resource "google_project_iam_member" "cluster_viewer" {
  count   = var.grant_cluster_viewer ? 1 : 0
  project = var.project_id
  role    = "roles/container.clusterViewer"
  member  = "serviceAccount:${var.healing_service_account}"
}

resource "kubernetes_cluster_role_v1" "healer" {
  metadata {
    name = "${var.prefix}-healer"
    labels = {
      "app.kubernetes.io/managed-by" = "terraform"
      "app.kubernetes.io/part-of"    = "gke-heal"
    }
  }
  dynamic "rule" {
    for_each = local.rules
    content {
      api_groups = rule.value.api_groups
      resources  = rule.value.resources
      verbs      = rule.value.verbs
    }
  }
}

resource "kubernetes_cluster_role_binding_v1" "healer" {
  metadata {
    name = "${var.prefix}-healer"
    labels = {
      "app.kubernetes.io/managed-by" = "terraform"
      "app.kubernetes.io/part-of"    = "gke-heal"
    }
  }
  role_ref {
    api_group = "rbac.authorization.k8s.io"
    kind      = "ClusterRole"
    name      = kubernetes_cluster_role_v1.healer.metadata[0].name
  }
  subject {
    api_group = "rbac.authorization.k8s.io"
    kind      = "User"
    name      = var.healing_service_account
  }
}
