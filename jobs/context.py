"""Jobs run inside an app context: the worker's own, or one built for the job."""
from contextlib import contextmanager

from flask import current_app, has_app_context

_app = None


@contextmanager
def app_context():
    """The current app context if there is one (the `flask worker` command), else the app's."""
    global _app
    if has_app_context():
        yield current_app
        return
    if _app is None:
        from portal import create_app

        _app = create_app()
    with _app.app_context():
        yield _app
