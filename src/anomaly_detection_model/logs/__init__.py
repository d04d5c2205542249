"""Log lines to templates (Drain, implemented here) and template-based anomaly detection."""
