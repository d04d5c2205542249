"""self_healing_service."""
