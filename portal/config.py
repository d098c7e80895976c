"""Every setting from the environment (CONTRACT.md), read and checked once, when the app is built.

Each setting is declared once below: its variable, how it is parsed, its
default, whether it is a secret. `load` parses them all and returns every
problem at once, each naming its variable, so that a portal, worker or CLI
with a malformed setting refuses to start instead of failing later, reminder
by reminder (a timeout of "10" once made every due reminder `outcome_unknown`).
Code reads the parsed values from `app.config`, never from the environment.
"""
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlsplit

from .providers import NAMES as PROVIDER_NAMES

MIGRATIONS = str(Path(__file__).resolve().parent.parent / "migrations")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")


class Invalid(RuntimeError):
    """Malformed settings; the message names each variable and what is wrong."""

    def __init__(self, problems: list[str]):
        super().__init__("invalid settings: " + "; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Setting:
    name: str  # the environment variable
    parse: Callable[[str], Any]  # raises ValueError with a message for the operator
    default: Any = None
    secret: bool = False
    key: str | None = None  # the app.config key, when it is not the variable's name

    @property
    def config_key(self) -> str:
        return self.key or self.name


def whole(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(float(text))
        except (ValueError, OverflowError):
            raise ValueError(f"expected a whole number, got {text!r}") from None
        if value != float(text) or value < minimum:
            raise ValueError(f"expected a whole number of at least {minimum}, got {text!r}")
        return value
    return parse


def seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"expected a number of seconds, got {text!r}") from None
    if not value >= 0 or value == float("inf"):
        raise ValueError(f"expected a number of seconds of at least 0, got {text!r}")
    return value


def timeout(text: str) -> tuple[float, float]:
    """One number (connect and read) or "connect,read", as requests wants it."""
    parts = [part.strip() for part in text.split(",")]
    if len(parts) > 2 or not all(parts):
        raise ValueError(f"expected seconds as one number or 'connect,read', got {text!r}")
    values = [seconds(part) for part in parts]
    if not all(values):
        raise ValueError(f"a timeout of 0 seconds would fail every call, got {text!r}")
    return (values[0], values[-1])


def http_url(text: str) -> str:
    url = urlsplit(text)
    if url.scheme not in ("http", "https") or not url.hostname:
        raise ValueError(f"expected an http:// or https:// URL with a host, got {text!r}")
    return text.rstrip("/")


def one_of(*choices: str, upper: bool = False) -> Callable[[str], str]:
    def parse(text: str) -> str:
        value = text.upper() if upper else text.lower()
        if value not in choices:
            raise ValueError(f"expected one of {', '.join(choices)}, got {text!r}")
        return value
    return parse


def redis_url(text: str) -> str:
    if urlsplit(text).scheme not in ("redis", "rediss", "unix"):
        raise ValueError(f"expected a redis://, rediss:// or unix:// URL, got {text!r}")
    return text


def database_url(text: str) -> str:
    if "://" not in text:
        raise ValueError(f"expected an SQLAlchemy URL such as postgresql+psycopg://..., got {text!r}")
    return text


def writable_directory(text: str) -> str:
    if not os.path.isdir(text) or not os.access(text, os.W_OK):
        raise ValueError(f"expected an existing directory this process may write to, got {text!r}")
    return text


def reply_number(text: str) -> str:
    """The vendor's virtual mobile number, as MessageBird takes a numeric originator."""
    digits = text.strip().removeprefix("+")
    if not digits.isascii() or not digits.isdigit() or not 8 <= len(digits) <= 15:
        raise ValueError(f"expected a phone number in international format such as +4915712345678, got {text!r}")
    return "+" + digits


def text_value(text: str) -> str:
    return text


SETTINGS = (
    Setting("PORTAL_ENV", one_of("production", "development"), "production"),
    Setting("DATABASE_URL", database_url, None, key="SQLALCHEMY_DATABASE_URI"),
    Setting("REDIS_URL", redis_url, None),
    Setting("SECRET_KEY", text_value, None, secret=True),
    Setting("SMS_PROVIDER", one_of(*PROVIDER_NAMES), "messagebird"),  # a module of portal.providers
    Setting("MESSAGEBIRD_ACCESS_KEY", text_value, None, secret=True),
    Setting("MESSAGEBIRD_SIGNING_KEY", text_value, None, secret=True),
    Setting("MESSAGEBIRD_ENDPOINT", http_url, "https://rest.messagebird.com"),
    Setting("MESSAGEBIRD_TIMEOUT", timeout, (3.05, 10.0)),
    # Reminders of practices with replies switched on are sent from this number, which receives the answers.
    Setting("MESSAGEBIRD_REPLY_NUMBER", reply_number, None),
    Setting("PUBLIC_BASE_URL", http_url, "http://localhost:5000"),
    Setting("RETENTION_DAYS", whole(1), 90),
    # How many proxies (load balancers) stand in front: their X-Forwarded-*
    # headers are trusted, nobody else's (login rate limits key on the client address).
    Setting("PROXY_HOPS", whole(0), 0),
    Setting("LOG_FORMAT", one_of("text", "json"), "text"),
    Setting("LOG_LEVEL", one_of(*LOG_LEVELS, upper=True), "INFO"),
    Setting("METRICS_TOKEN", text_value, None, secret=True),
    # read by prometheus-client itself; checked here so that a wrong one stops the start, not a request
    Setting("PROMETHEUS_MULTIPROC_DIR", writable_directory, None),
    # The sending knobs (see portal.sending and the README).
    Setting("DISPATCH_INTERVAL_SECONDS", seconds, 5),
    Setting("SEND_BATCH_SIZE", whole(1), 50),  # reminders per send job
    Setting("SEND_CONCURRENCY", whole(1), 8),  # provider calls at once per send job, each over its own connection
    Setting("DISPATCH_CHUNK", whole(1), 1000),  # reminders claimed per transaction
    Setting("CLAIM_STALE_SECONDS", seconds, 300),  # a claim whose job never began the submission
    Setting("SUBMIT_STALE_SECONDS", seconds, 120),  # a submission begun without an outcome (> timeouts)
    # an unknown outcome is asked about once the provider's message list shows a submission this old
    Setting("OUTCOME_CHECK_DELAY_SECONDS", seconds, 60),
    Setting("SEND_RETRY_BASE_SECONDS", seconds, 30),
    Setting("SEND_RETRY_MAX_SECONDS", seconds, 1800),
    Setting("SEND_MAX_ATTEMPTS", whole(1), 8),
)


def load(instance_path: str, environ=os.environ) -> tuple[dict, list[str]]:
    """The app config from `environ`, and a problem per malformed setting (its default is used)."""
    values, problems = {}, []
    for setting in SETTINGS:
        raw = environ.get(setting.name)
        try:
            values[setting.config_key] = setting.parse(raw) if raw else setting.default
        except ValueError as error:
            problems.append(f"{setting.name}: {error}")
            values[setting.config_key] = setting.default
    problems += _production_problems(values)
    return _derived(values, Path(instance_path)), problems


def read(name: str, environ=os.environ):
    """One setting parsed, or its default when unset or malformed (for code that runs before the app)."""
    setting = next(setting for setting in SETTINGS if setting.name == name)
    try:
        return setting.parse(environ[name]) if environ.get(name) else setting.default
    except ValueError:
        return setting.default


def _production_problems(values: dict) -> list[str]:
    if values["PORTAL_ENV"] != "production":
        return []
    url = urlsplit(values["PUBLIC_BASE_URL"])
    # MessageBird signs and posts to this URL; only a loopback address (a local run) may go without TLS
    if url.scheme != "https" and url.hostname not in LOOPBACK_HOSTS:
        return [f"PUBLIC_BASE_URL: must be an https:// URL in production, got {values['PUBLIC_BASE_URL']!r}"]
    return []


def _derived(values: dict, instance: Path) -> dict:
    # Development is opted into (bin/run does): a host that forgets to say
    # fails closed, asking for a SECRET_KEY and sending Secure cookies.
    development = values["PORTAL_ENV"] == "development"
    embedded_redis = not values["REDIS_URL"]
    return {
        **values,
        "SQLALCHEMY_DATABASE_URI": values["SQLALCHEMY_DATABASE_URI"] or f"sqlite:///{instance / 'portal.sqlite'}",
        "REDIS_URL": values["REDIS_URL"] or f"unix://{instance / 'redis.sock'}",
        "EMBEDDED_REDIS": embedded_redis,
        "SECRET_KEY": values["SECRET_KEY"] or (_dev_secret(instance) if development else None),
        "DEVELOPMENT": development,
        # Enough for a full /sync of 1,000 operations; anything larger is refused before parsing.
        "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
        # hide_parameters: a database error must not write names and numbers into the logs
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True, "hide_parameters": True},
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": not development,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "BABEL_DEFAULT_LOCALE": "de",
        "BABEL_DEFAULT_TIMEZONE": "Europe/Berlin",
    }


def missing(config) -> list[str]:
    """Problems only the final config (environment plus test overrides) can show."""
    return [] if config.get("SECRET_KEY") else ["SECRET_KEY: required outside development (PORTAL_ENV)"]


def effective(config) -> list[tuple[str, str]]:
    """(variable, value) of every setting as the app uses it, secrets masked."""
    rows = []
    for setting in SETTINGS:
        value = config.get(setting.config_key)
        if setting.secret and value:
            shown = "****"
        elif setting.name in ("DATABASE_URL", "REDIS_URL"):
            shown = _without_password(str(value))
        elif isinstance(value, tuple):
            shown = ",".join(f"{part:g}" for part in value)
        else:
            shown = "" if value is None else str(value)
        rows.append((setting.name, shown))
    return rows


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    return url.replace(f":{parts.password}@", ":****@") if parts.password else url


def check_requested(argv=None) -> bool:
    """True in `flask ... config check`, which must run to report a broken configuration."""
    args = (argv if argv is not None else sys.argv)[1:]
    return any(args[n:n + 2] == ["config", "check"] for n in range(len(args)))


def _dev_secret(instance: Path) -> str:
    """A per-machine secret for development, kept so sessions survive restarts."""
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / "dev-secret-key"
    if not path.exists():
        path.write_text(os.urandom(32).hex())
    return path.read_text().strip()
