"""Vendor administration: groups, practices, licences, API keys, users, usage."""
from .routes import bp

__all__ = ["bp"]
