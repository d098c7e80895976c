"""WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi ...`."""
import sys

from portal import config, create_app, serving

try:
    app = serving(create_app())
except config.Invalid as error:
    print(f"refusing to start: {error}", file=sys.stderr)
    # 3 is gunicorn's "worker failed to boot": its master stops instead of restarting workers forever
    raise SystemExit(3)
