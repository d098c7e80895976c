"""The provider webhook: MessageBird status reports (see webhooks/routes.py)."""
from flask import Blueprint

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")
