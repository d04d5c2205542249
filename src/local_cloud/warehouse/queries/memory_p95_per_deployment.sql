-- name: memory_p95_per_deployment
-- description: 95th percentile of container memory in use per Deployment since @since (approximate in BigQuery, exact-ish in DuckDB).
-- params: since TIMESTAMP
SELECT
  namespace,
  deployment,
  APPROX_QUANTILES(value, 100)[OFFSET(95)] AS memory_p95_bytes,
  COUNT(*) AS points
FROM telemetry.raw_metrics
WHERE metric_type = 'kubernetes.io/container/memory/used_bytes'
  AND timestamp >= @since
GROUP BY namespace, deployment
ORDER BY memory_p95_bytes DESC, namespace, deployment
