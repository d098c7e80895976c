"""The JSON API under /api/v1: importing the modules declares their operations."""
from . import admin, feed, lookup, openapi, practice  # noqa: F401  (each module declares its operations on `bp`)
from .core import api_error_for_app, bp

__all__ = ["bp", "api_error_for_app"]
