-- name: dead_letters_by_reason
-- description: Dead letters per kind and reason category (the text before the first colon), newest first.
-- params:
SELECT
  kind,
  REGEXP_EXTRACT(reason, r'^([^:]+)') AS category,
  COUNT(*) AS letters,
  MAX(received_at) AS last_seen
FROM telemetry.dead_letters
GROUP BY kind, category
ORDER BY letters DESC, kind, category
