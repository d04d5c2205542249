"""A GKE cluster simulator that serves the real Kubernetes REST API on loopback."""
