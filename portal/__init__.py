"""The Flask application: `create_app` builds it from the environment; `serving` readies it for a serving process."""
import gc
import os
import sqlite3

import psycopg
from flask import Flask
from psycopg.types.array import ListBinaryDumper
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from . import config, health, logs, metrics
from .extensions import babel, csrf, db, login_manager, migrate
from .json_bodies import DepthLimitedJSONProvider
from .web.sessions import PortalSessions


def create_app(test_config: dict | None = None) -> Flask:
    """Build the app; `test_config` overrides the environment."""
    app = Flask(__name__, instance_relative_config=True)
    app.json = DepthLimitedJSONProvider(app)
    os.makedirs(app.instance_path, exist_ok=True)
    settings, problems = config.load(app.instance_path)
    app.config.from_mapping(settings)
    if test_config:
        app.config.from_mapping(test_config)
    problems += config.missing(app.config)
    if problems and not config.check_requested():
        raise config.Invalid(problems)
    app.config["CONFIG_PROBLEMS"] = problems  # shown by `flask config check`
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"connect_args": {"timeout": 30}, "hide_parameters": True}

    logs.init_app(app)
    if app.config["PROXY_HOPS"]:
        hops = app.config["PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)
    app.session_interface = PortalSessions()
    _bind_extensions(app)
    _register_blueprints(app)
    from .cli import register as register_cli

    register_cli(app)
    return app


YOUNG_OBJECTS = 10_000  # new objects between the collector's young runs in a serving process (`serving`)


def serving(app: Flask) -> Flask:
    """`app` in the process that serves it for its lifetime (wsgi.py: gunicorn's workers, the send worker).

    What the app and its modules built stays to the end, so the collector's full runs leave it out
    (`gc.freeze`): walking those 170,000 objects took 60-70 ms, a pause every few dozen requests
    that was most of a support lookup's 95th percentile. And a young collection waits for 10,000 new
    objects instead of 700: a sync batch of 1,000 operations keeps some ten times as many alive until
    its commit, which the young collections pushed on into full runs of about 40 ms each, ten of them
    in twelve thousand operations (two now). Only for a serving process: in the tests, frozen apps
    would never be freed.
    """
    gc.freeze()
    gc.set_threshold(YOUNG_OBJECTS, *gc.get_threshold()[1:])
    return app


def _bind_extensions(app: Flask) -> None:
    from .i18n import select_locale

    db.init_app(app)
    migrate.init_app(app, db, directory=config.MIGRATIONS, render_as_batch=True)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    login_manager.init_app(app)


def _register_blueprints(app: Flask) -> None:
    import webhooks

    from . import api, web

    app.register_blueprint(api.bp)
    csrf.exempt(api.bp)
    app.register_error_handler(HTTPException, api.api_error_for_app)
    app.register_blueprint(health.bp)
    metrics.init_app(app)
    app.register_blueprint(webhooks.bp)
    csrf.exempt(webhooks.bp)
    web.register(app)


@event.listens_for(Engine, "connect")
def _binary_arrays(connection, _record) -> None:
    """Lists (a batch's columns as arrays, `one_of`'s IDs) in PostgreSQL's binary format. As text psycopg
    quotes every element with a regular expression: 4.2 ms for three arrays of 1,000 values, 0.6 in binary.
    The statements cast each array to its column's type, so the elements' own types do not matter."""
    if isinstance(connection, psycopg.Connection):
        connection.adapters.register_dumper(list, ListBinaryDumper)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(connection, _record) -> None:
    """Foreign keys on, and WAL so a worker and the portal can share the file."""
    if isinstance(connection, sqlite3.Connection):
        cursor = connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()
