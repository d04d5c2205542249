# The alert policies come from policies.json, the one definition that local_cloud.monitoring
# also reads (docs/contracts.md §5). Nothing here may hard-code a threshold, a duration or a
# label: this file only reshapes the definition into the arguments of the resources in main.tf.
# It uses no provider, so the tests can evaluate it with `terraform console` offline.

locals {
  definition = jsondecode(file(coalesce(var.policies_file, "${path.module}/policies.json")))

  alert_policies = {
    for p in local.definition.policies : p.name => {
      display_name = "${var.prefix} ${p.display_name}"
      severity     = upper(p.severity)
      user_labels  = merge(var.extra_user_labels, p.user_labels)
      condition = {
        display_name = "anomaly score ${lookup(local.comparison_symbols, p.comparison, p.comparison)} ${p.threshold}"
        filter = join(" AND ", [
          "metric.type = \"${local.definition.metric_type}\"",
          "resource.type = one_of(${join(", ", [for t in local.definition.resource_types : "\"${t}\""])})",
          "metric.label.issue = one_of(${join(", ", [for k in p.issue_kinds : "\"${k}\""])})",
          "metric.label.severity = \"${p.severity}\"",
        ])
        comparison       = p.comparison
        threshold_value  = p.threshold
        duration         = "${p.duration_seconds}s"
        alignment_period = "${p.alignment_period_seconds}s"
        group_by_fields  = try(local.definition.group_by_fields, [])
      }
      auto_close    = "${p.auto_close_seconds}s"
      documentation = p.documentation
    }
  }

  comparison_symbols = {
    COMPARISON_GT = ">"
    COMPARISON_GE = ">="
    COMPARISON_LT = "<"
    COMPARISON_LE = "<="
  }
}
