"""/healthz and /readyz as a load balancer sees them, with each dependency taken away."""
import pytest

from portal import create_app

from ..conftest import SIGNING_KEY

UNREACHABLE_DATABASE = "postgresql+psycopg://postgres@127.0.0.1:1/nowhere"
UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"


def app_with(database_url, redis_url):
    return create_app({"TESTING": True, "SECRET_KEY": "test", "SQLALCHEMY_DATABASE_URI": database_url,
                       "REDIS_URL": redis_url, "EMBEDDED_REDIS": False, "MESSAGEBIRD_SIGNING_KEY": SIGNING_KEY})


def test_healthz_says_ok_and_touches_nothing():
    response = app_with(UNREACHABLE_DATABASE, UNREACHABLE_REDIS).test_client().get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok"}


def test_ready_when_database_redis_and_migrations_are(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json == {"status": "ready", "checks": {"database": "ok", "redis": "ok", "migrations": "ok"}}


def test_not_ready_without_the_database(redis_url):
    response = app_with(UNREACHABLE_DATABASE, redis_url).test_client().get("/readyz")
    assert response.status_code == 503
    checks = response.json["checks"]
    assert response.json["status"] == "unavailable" and checks["redis"] == "ok"
    assert checks["database"].startswith("unreachable") and checks["migrations"] != "ok"
    assert "127.0.0.1" not in response.get_data(as_text=True) and "postgres" not in response.get_data(as_text=True)


def test_not_ready_without_redis(database_url):
    response = app_with(database_url, UNREACHABLE_REDIS).test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["status"] == "unavailable"
    assert response.json["checks"]["redis"].startswith("unreachable")
    assert response.json["checks"]["database"] == "ok" and response.json["checks"]["migrations"] == "ok"


def test_not_ready_before_the_migrations_are_applied(tmp_path, redis_url):
    response = app_with(f"sqlite:///{tmp_path / 'empty.sqlite'}", redis_url).test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"] == {"database": "ok", "redis": "ok", "migrations": "not applied"}


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_no_login_needed_and_the_request_id_is_echoed(client, path):
    response = client.get(path, headers={"X-Request-ID": "lb-check-42"})
    assert response.status_code == 200 and response.headers["X-Request-ID"] == "lb-check-42"
