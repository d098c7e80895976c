"""`GET /healthz` and `GET /readyz` for load balancers and supervisors (CONTRACT.md, "Operations").

Neither needs a login and neither says more than which check failed: the
answers are public wherever the service is.
"""
import logging
from functools import cache

import redis
from alembic.config import Config
from alembic.script import ScriptDirectory
from flask import Blueprint, current_app, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from .config import MIGRATIONS
from .extensions import db

log = logging.getLogger(__name__)
bp = Blueprint("health", __name__)
TIMEOUT = 2  # seconds per check: a load balancer asks often and wants an answer


@bp.get("/healthz")
def healthz():
    """The process serves; nothing else is checked."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    """Database reachable, Redis reachable, migrations at head; 503 naming the failing check."""
    database = _database()
    checks = {"database": database, "redis": _redis(),
              "migrations": _migrations() if database == "ok" else "unknown: database unreachable"}
    ready = all(value == "ok" for value in checks.values())
    if not ready:
        log.warning("not ready: %s", ", ".join(f"{name} {value}" for name, value in checks.items() if value != "ok"))
    return jsonify(status="ready" if ready else "unavailable", checks=checks), 200 if ready else 503


def _database() -> str:
    try:
        db.session.execute(text("SELECT 1"))
        return "ok"
    except SQLAlchemyError as error:
        db.session.rollback()
        return f"unreachable ({type(error.orig or error).__name__})"


def _redis() -> str:
    try:
        client = redis.Redis.from_url(current_app.config["REDIS_URL"], socket_connect_timeout=TIMEOUT,
                                      socket_timeout=TIMEOUT)
        client.ping()
        client.close()
        return "ok"
    except (redis.RedisError, OSError) as error:
        return f"unreachable ({type(error).__name__})"


def _migrations() -> str:
    try:
        applied = set(db.session.scalars(text("SELECT version_num FROM alembic_version")))
    except SQLAlchemyError:
        db.session.rollback()
        return "not applied"
    if applied != code_heads():
        return f"behind: database at {', '.join(sorted(applied)) or 'none'}, code at {', '.join(sorted(code_heads()))}"
    return "ok"


@cache
def code_heads() -> frozenset[str]:
    """The head revisions of the migrations shipped with this code."""
    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    return frozenset(ScriptDirectory.from_config(config).get_heads())
