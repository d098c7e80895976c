"""Group administration: the group and practice dialogs, reminders, data quality."""
from .routes import bp

__all__ = ["bp"]
