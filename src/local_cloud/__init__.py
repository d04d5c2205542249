"""local_cloud."""
