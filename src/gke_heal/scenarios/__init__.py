"""Scenarios shipped with gke-heal (the demo)."""
