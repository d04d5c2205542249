"""Anomaly detectors: univariate, multivariate, logs, and baselines."""
