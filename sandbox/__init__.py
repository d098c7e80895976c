"""A local MessageBird-compatible SMS provider for development, demos and tests."""

from .app import create_app
from .server import make_server

__all__ = ["create_app", "make_server"]
