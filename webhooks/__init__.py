"""The provider webhook: MessageBird status reports (see webhooks/routes.py)."""
from .routes import bp

__all__ = ["bp"]
