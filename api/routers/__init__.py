"""Routers by resource; each is mounted under /api by api.app."""
