"""Logging, configured in one place for the portal, the worker and the CLI.

`LOG_FORMAT=text|json` and `LOG_LEVEL` choose how; every line carries the
request ID (the `X-Request-ID` header or a new one, echoed in the response)
or the ID of the RQ job it belongs to. One access line per request is written
here, whichever server runs the app, with the path but never the query string:
lookups and status reports carry phone numbers and names there. No line may
hold a patient's name, phone number or message text; SQL parameters are
hidden by the engine (`hide_parameters`, see `portal.config`).
"""
import json
import logging
import re
import sys
import time
import uuid
from datetime import datetime, timezone

from flask import Flask, g, has_request_context, request
from flask.logging import default_handler
from gunicorn import glogging

from . import config

ACCESS = logging.getLogger("portal.access")
ANSI = re.compile(r"\x1b\[[0-9;]*m")
REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")  # what we accept from X-Request-ID and echo
# werkzeug's development server writes its own access line, query string included
WERKZEUG_ACCESS = '"%s" %s %s'


def configure(log_format: str = "text", level: str = "INFO") -> None:
    """Install our one handler on the root logger (again: the last call wins)."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "portal", False)]:
        root.removeHandler(handler)
    handler = StderrHandler()
    handler.portal = True
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    handler.addFilter(add_context)
    root.addHandler(handler)
    root.setLevel(level)
    # Loggers that bring their own handlers (gunicorn, RQ) write through ours instead.
    for name in ("werkzeug", "gunicorn.error", "gunicorn.access", "rq.worker", "rq.job", "rq.scheduler"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    werkzeug = logging.getLogger("werkzeug")
    if drop_foreign_access_lines not in werkzeug.filters:
        werkzeug.addFilter(drop_foreign_access_lines)


class StderrHandler(logging.StreamHandler):
    """Writes to whatever `sys.stderr` is when a line is written (test captures swap it)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value):
        pass


def add_context(record: logging.LogRecord) -> bool:
    """Give the record the request ID or the job ID it was written under."""
    if not hasattr(record, "request_id"):
        record.request_id = g.get("request_id") if has_request_context() else None
    if not hasattr(record, "job_id"):
        record.job_id = current_job_id()
    return True


def current_job_id() -> str | None:
    from rq import get_current_job

    job = get_current_job()
    return job.id if job else None


def drop_foreign_access_lines(record: logging.LogRecord) -> bool:
    return not (record.name == "werkzeug" and str(record.msg).rstrip().endswith(WERKZEUG_ACCESS))


def _message(record: logging.LogRecord) -> str:
    return ANSI.sub("", record.getMessage()).rstrip("\n")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, message, request_id or job_id, and extras."""

    FIELDS = ("method", "path", "status", "duration_ms")

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": _message(record),
        }
        for key in ("request_id", "job_id", *self.FIELDS):
            if getattr(record, key, None) is not None:
                line[key] = getattr(record, key)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def __init__(self):
        super().__init__("%(asctime)s %(levelname)s %(name)s %(context)s%(message)s")

    def format(self, record: logging.LogRecord) -> str:
        ids = [f"{key}={getattr(record, key)}" for key in ("request_id", "job_id") if getattr(record, key, None)]
        record.context = f"[{' '.join(ids)}] " if ids else ""
        text = super().format(record)
        return ANSI.sub("", text).rstrip("\n")


class GunicornLogger(glogging.Logger):
    """gunicorn's own lines (and its access log, if switched on) through our handler and format."""

    def setup(self, cfg):
        super().setup(cfg)
        configure(config.read("LOG_FORMAT"), config.read("LOG_LEVEL"))


def init_app(app: Flask) -> None:
    """Request IDs and the access line; call before other `before_request` hooks are added."""
    configure(app.config["LOG_FORMAT"], app.config["LOG_LEVEL"])
    app.logger.removeHandler(default_handler)  # Flask's own format; ours is on the root logger
    app.before_request(_begin)
    app.after_request(_access_line)


def _begin() -> None:
    given = request.headers.get("X-Request-ID", "")
    g.request_id = given if REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
    g.request_started = time.perf_counter()


def elapsed() -> float:
    """Seconds since this request began."""
    return time.perf_counter() - g.get("request_started", time.perf_counter())


def _access_line(response):
    response.headers["X-Request-ID"] = g.get("request_id") or ""
    duration = elapsed()
    # request.path: never the query string
    ACCESS.info("%s %s %s %.1fms", request.method, request.path, response.status_code, duration * 1000,
                extra={"method": request.method, "path": request.path, "status": response.status_code,
                       "duration_ms": round(duration * 1000, 1)})
    return response
