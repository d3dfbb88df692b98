"""The channels service's models and rules: no I/O, nothing of MongoDB."""
