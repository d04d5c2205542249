"""Evaluation of the multivariate and log detectors (NAB scoring lives in `..nab`)."""
