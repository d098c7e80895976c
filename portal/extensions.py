"""Unbound extensions, bound to the app in `create_app`."""
from flask import Flask, current_app, request
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData

# Named constraints so migrations work the same on SQLite (batch mode) and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING))
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()


# Login attempts are limited per client address and per account name; the
# storage (Redis) is named in the app config by `portal.web.register`.
limiter = Limiter(key_func=get_remote_address, default_limits=[], in_memory_fallback_enabled=True)


def limiter_storage_uri(redis_url: str | None) -> str:
    """Flask-Limiter's name for our Redis: unix:///path becomes redis+unix:///path."""
    if not redis_url:
        return "memory://"
    if redis_url.startswith("unix://"):
        return "redis+unix://" + redis_url[len("unix://"):]
    return redis_url


# Machine-facing blueprints: the limiter skips their requests unless they declare limits of their own.
UNLIMITED_BLUEPRINTS = frozenset({"api", "health", "metrics", "webhooks"})


def skip_unlimited(limiter: Limiter, blueprints=UNLIMITED_BLUEPRINTS) -> None:
    """Requests to `blueprints` that have no limits (nor defaults apply) skip the limiter's bookkeeping."""

    @limiter.request_filter
    def _no_limits_declared() -> bool:
        blueprint = request.blueprint
        if blueprint not in blueprints:
            return False
        known = current_app.extensions.setdefault("portal.unlimited_blueprints", {})
        if blueprint not in known:
            known[blueprint] = not declares_limits(limiter, current_app, blueprint)
        return known[blueprint]


def declares_limits(limiter: Limiter, app: Flask, blueprint: str) -> bool:
    """Whether a request to some view of `blueprint` is limited: by the view, the blueprint or the defaults."""
    manager = limiter.limit_manager
    if manager.application_limits or manager.default_limits:
        return True
    return any(any(manager.resolve_limits(app, endpoint, blueprint))
               for endpoint in app.view_functions if endpoint.startswith(blueprint + "."))


skip_unlimited(limiter)
