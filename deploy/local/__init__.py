"""Local processes without Docker: broker, database, services, gateway (see stack.py)."""
