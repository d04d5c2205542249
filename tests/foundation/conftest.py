"""Foundation tests: the CLI, the configuration file and the unit boundaries. Nothing is faked."""
