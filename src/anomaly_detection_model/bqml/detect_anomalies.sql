-- Score the newest windows against the ARIMA_PLUS model: rows outside the model's prediction
-- interval at the given probability are anomalies. Output columns map onto contracts §3:
-- score = anomaly_probability, entity_id and window_end as in the features table.
-- Parameters: {project}, {dataset}, {metric}, {threshold} (e.g. 0.99), {recent_minutes}.
SELECT
  entity_id,
  window_end,
  '{metric}' AS metric,
  value,
  lower_bound,
  upper_bound,
  anomaly_probability AS score,
  is_anomaly
FROM ML.DETECT_ANOMALIES(
  MODEL `{project}.{dataset}.arima_{metric}`,
  STRUCT({threshold} AS anomaly_prob_threshold),
  (
    SELECT entity_id, window_end, {metric} AS value
    FROM `{project}.{dataset}.features`
    WHERE {metric} IS NOT NULL
      AND window_end >= TIMESTAMP_SUB(CURRENT_TIMESTAMP(), INTERVAL {recent_minutes} MINUTE)
  )
)
ORDER BY window_end, entity_id
