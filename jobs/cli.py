"""Commands for the worker side: `worker`, `reminders dispatch`."""
from flask import Flask


def register(app: Flask) -> None:
    """Add the worker-side commands to the app's CLI."""
