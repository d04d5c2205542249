-- name: error_logs_per_pod_last_hour
-- description: Container log lines per pod in the hour up to @now, the error lines among them and their share, from the raw log-sink table.
-- params: now TIMESTAMP
SELECT
  resource.labels.namespace_name AS namespace,
  resource.labels.pod_name AS pod,
  COUNT(*) AS lines,
  COUNTIF(severity IN ('ERROR', 'CRITICAL', 'ALERT', 'EMERGENCY')) AS error_lines,
  ROUND(SAFE_DIVIDE(COUNTIF(severity IN ('ERROR', 'CRITICAL', 'ALERT', 'EMERGENCY')), COUNT(*)), 4) AS error_share
FROM telemetry.raw_logs
WHERE resource.type = 'k8s_container'
  AND timestamp > TIMESTAMP_SUB(@now, INTERVAL 1 HOUR)
  AND timestamp <= @now
GROUP BY namespace, pod
ORDER BY error_lines DESC, namespace, pod
