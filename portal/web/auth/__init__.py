"""Login, logout, password change and language choice."""
from .routes import bp

__all__ = ["bp"]
