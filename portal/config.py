"""Configuration from the environment (CONTRACT.md), read when the app is built."""
import os
from pathlib import Path


def from_environment(instance_path: str) -> dict:
    """The settings named in CONTRACT.md, with the embedded defaults."""
    instance = Path(instance_path)
    # Development is opted into (bin/run does): a host that forgets to say
    # fails closed, asking for a SECRET_KEY and sending Secure cookies.
    development = os.environ.get("PORTAL_ENV", "production") == "development"
    return {
        "SQLALCHEMY_DATABASE_URI": os.environ.get("DATABASE_URL") or f"sqlite:///{instance / 'portal.sqlite'}",
        "REDIS_URL": os.environ.get("REDIS_URL") or f"unix://{instance / 'redis.sock'}",
        "EMBEDDED_REDIS": not os.environ.get("REDIS_URL"),
        "SECRET_KEY": os.environ.get("SECRET_KEY") or (_dev_secret(instance) if development else None),
        "DEVELOPMENT": development,
        "MESSAGEBIRD_ACCESS_KEY": os.environ.get("MESSAGEBIRD_ACCESS_KEY"),
        "MESSAGEBIRD_SIGNING_KEY": os.environ.get("MESSAGEBIRD_SIGNING_KEY"),
        "MESSAGEBIRD_ENDPOINT": os.environ.get("MESSAGEBIRD_ENDPOINT", "https://rest.messagebird.com"),
        "PUBLIC_BASE_URL": os.environ.get("PUBLIC_BASE_URL", "http://localhost:5000").rstrip("/"),
        "RETENTION_DAYS": int(os.environ.get("RETENTION_DAYS", "90")),
        # How many proxies (load balancers) stand in front: their X-Forwarded-*
        # headers are trusted, nobody else's (login rate limits key on the client address).
        "PROXY_HOPS": int(os.environ.get("PROXY_HOPS", "0")),
        # Enough for a full /sync of 1,000 operations; anything larger is refused before parsing.
        "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": not development,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "BABEL_DEFAULT_LOCALE": "de",
        "BABEL_DEFAULT_TIMEZONE": "Europe/Berlin",
    }


def _dev_secret(instance: Path) -> str:
    """A per-machine secret for development, kept so sessions survive restarts."""
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / "dev-secret-key"
    if not path.exists():
        path.write_text(os.urandom(32).hex())
    return path.read_text().strip()
