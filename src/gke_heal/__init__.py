"""The `gke-heal` command: configuration, local stack composition, demo, chaos, train, evaluate."""

__version__ = "0.1.0"
