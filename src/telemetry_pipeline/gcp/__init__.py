"""The pipeline's Google Cloud clients: Cloud Monitoring (anomaly metric writer, metrics
exporter), Pub/Sub (publishing telemetry) and BigQuery (creating the tables). The only package
of telemetry_pipeline that imports google.*; import it only where a cloud client is needed.
"""
