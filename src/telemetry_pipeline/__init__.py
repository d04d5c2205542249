"""telemetry_pipeline."""
