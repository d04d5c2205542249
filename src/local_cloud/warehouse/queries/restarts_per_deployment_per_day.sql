-- name: restarts_per_deployment_per_day
-- description: Container restarts per Deployment per UTC day, from the deployment feature rows (restarts counted during each window).
-- params:
SELECT
  DATE(window_start) AS day,
  namespace,
  deployment,
  CAST(SUM(restarts) AS INT64) AS restarts
FROM telemetry.features
WHERE entity_type = 'deployment'
  AND restarts IS NOT NULL
GROUP BY day, namespace, deployment
HAVING SUM(restarts) > 0
ORDER BY day, namespace, deployment
