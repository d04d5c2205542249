-- name: top_anomalous_pods_last_hour
-- description: The pods with the highest anomaly score in the hour up to @now, how many of their windows scored above @threshold, and the issue of their worst window.
-- params: now TIMESTAMP, threshold FLOAT64, max_rows INT64
SELECT
  namespace,
  pod,
  MAX(score) AS max_score,
  COUNTIF(score > @threshold) AS anomalous_windows,
  ARRAY_AGG(issue IGNORE NULLS ORDER BY score DESC, window_end DESC)[SAFE_OFFSET(0)] AS worst_issue
FROM telemetry.anomalies
WHERE entity_type = 'pod'
  AND window_end > TIMESTAMP_SUB(@now, INTERVAL 1 HOUR)
  AND window_end <= @now
GROUP BY namespace, pod
ORDER BY max_score DESC, namespace, pod
LIMIT @max_rows
