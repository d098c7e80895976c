"""The server-rendered portal: one blueprint per area."""
from flask import Flask


def register(app: Flask) -> None:
    """Register the portal's blueprints and what they need (login, headers)."""
