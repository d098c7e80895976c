"""What patients replied, per practice: confirmations, cancellation requests, opt-outs, replies to read."""
from .routes import bp

__all__ = ["bp"]
