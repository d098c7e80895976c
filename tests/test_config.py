"""Configuration from the environment: safe when something is forgotten."""
import pytest
from flask import request

from portal import create_app


@pytest.fixture
def environment(monkeypatch, tmp_path):
    for name in ("PORTAL_ENV", "SECRET_KEY", "PROXY_HOPS", "DATABASE_URL", "REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'config.sqlite'}")
    return monkeypatch


def test_without_portal_env_it_is_production_and_needs_a_secret_key(environment):
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app()
    environment.setenv("SECRET_KEY", "a production secret")
    app = create_app()
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_development_is_opted_into(environment):
    environment.setenv("PORTAL_ENV", "development")
    app = create_app()
    assert app.config["SECRET_KEY"] and app.config["SESSION_COOKIE_SECURE"] is False


@pytest.mark.parametrize("hops,expected", [("0", "127.0.0.1"), ("1", "203.0.113.7")])
def test_forwarded_addresses_are_trusted_only_behind_a_configured_proxy(environment, hops, expected):
    environment.setenv("SECRET_KEY", "secret")
    environment.setenv("PROXY_HOPS", hops)
    app = create_app()
    app.add_url_rule("/_address", "address", lambda: request.remote_addr)
    response = app.test_client().get("/_address", headers={"X-Forwarded-For": "203.0.113.7"},
                                     environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert response.get_data(as_text=True) == expected
