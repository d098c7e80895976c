"""Support: the lookup, an appointment's timeline and checklist, re-plan, the audit log."""
from .routes import bp

__all__ = ["bp"]
