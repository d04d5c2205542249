-- One ARIMA_PLUS model per (entity, metric) time series, trained inside BigQuery.
-- Parameters: {project}, {dataset}, {metric} (a numeric column of the features table),
-- {history_days} (training range), {horizon} (forecast steps kept by the model).
CREATE OR REPLACE MODEL `{project}.{dataset}.arima_{metric}`
OPTIONS (
  model_type = 'ARIMA_PLUS',
  time_series_timestamp_col = 'window_end',
  time_series_data_col = 'value',
  time_series_id_col = 'entity_id',
  data_frequency = 'PER_MINUTE',
  decompose_time_series = TRUE,
  clean_spikes_and_dips = TRUE,
  adjust_step_changes = TRUE,
  horizon = {horizon},
  auto_arima = TRUE
) AS
SELECT
  entity_id,
  window_end,
  {metric} AS value
FROM `{project}.{dataset}.features`
WHERE {metric} IS NOT NULL
  AND window_end >= TIMESTAMP_SUB(CURRENT_TIMESTAMP(), INTERVAL {history_days} DAY)
