"""Deployment: the local stack (deploy.local) for development and tests."""
