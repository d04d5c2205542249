"""telemetry_pipeline: GKE metrics and logs → rows, windowed features, scores and the anomaly metric.

The transform logic lives in plain modules (records, sources, features, templates, scoring,
anomaly); `beam` wraps it in Beam transforms, `inprocess` runs it in one process, and `gcp`
holds the Google Cloud clients.
"""
