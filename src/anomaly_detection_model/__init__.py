"""anomaly_detection_model."""
