"""Vendor administration: groups, practices, licences, API keys, users, usage, queues."""
from . import queues  # noqa: F401  (its pages join the blueprint)
from .routes import bp

__all__ = ["bp"]
