"""The server-rendered portal: one blueprint per area."""
from flask import Flask, abort, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_babel import refresh as refresh_locale
from flask_login import current_user, login_required

from ..domain.inputs import text_problem
from ..extensions import db, limiter, limiter_storage_uri, login_manager
from ..models import User
from .admin import bp as admin_bp
from .auth import bp as auth_bp
from .common import licence_status_names, locale_code, register_filters, role_names
from .replies import bp as replies_bp
from .settings import bp as settings_bp
from .support import bp as support_bp

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def register(app: Flask) -> None:
    """Register the portal's blueprints and what they need (login, headers)."""
    _bind_limiter(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = lazy_gettext("Please log in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    for blueprint in (auth_bp, admin_bp, settings_bp, support_bp, replies_bp):
        app.register_blueprint(blueprint)
    app.add_url_rule("/", "home", _home)
    app.before_request(_fresh_request_state)
    app.before_request(_readable_query)
    app.after_request(_security_headers_for(app))
    register_filters(app)
    app.context_processor(_navigation)


def _bind_limiter(app: Flask) -> None:
    app.config.setdefault("RATELIMIT_STORAGE_URI", limiter_storage_uri(app.config.get("REDIS_URL")))
    app.config.setdefault("RATELIMIT_KEY_PREFIX", "portal-limits")
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    limiter.init_app(app)


@login_manager.user_loader
def _load_user(session_id: str) -> User | None:
    """The session's user, while the session is of the user's current version and the user is active."""
    user_id, _sep, version = session_id.partition(":")
    user = db.session.get(User, int(user_id)) if user_id.isdigit() and len(user_id) < 10 else None
    if user is None or not user.active or version != str(user.session_version):
        return None
    return user


@login_required
def _home():
    """Each role starts where its work is."""
    start = {"vendor_admin": "admin.practices", "support": "support.lookup", "group_admin": "settings.index"}
    return redirect(url_for(start[current_user.role]))


def _fresh_request_state() -> None:
    """Forget the user and locale cached on `g` by an earlier request.

    `g` lives as long as the app context; a request served inside an outer
    context (tests, a CLI command) would otherwise inherit the previous
    request's user.
    """
    g.pop("_login_user", None)
    refresh_locale()


PORTAL_BLUEPRINTS = {bp.name for bp in (auth_bp, admin_bp, settings_bp, support_bp)}


def _readable_query() -> None:
    """:raise 400: for a search parameter of a portal page that is no printable text (NUL reaches no query).

    `next` is navigation state, checked where it is used (auth.routes._safe_next).
    """
    if request.blueprint not in PORTAL_BLUEPRINTS:
        return
    for name, value in request.args.items(multi=True):
        if name != "next" and (problem := text_problem(value)):
            abort(400, description=f"{name}: {problem}")


def _security_headers_for(app: Flask):
    """The after_request hook adding the security headers, their values fixed once for the app."""
    fixed = [
        ("Content-Security-Policy", CSP),
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", "same-origin"),
        ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
    ]
    if app.config.get("SESSION_COOKIE_SECURE"):
        # Served over HTTPS (everywhere but development): browsers must not fall back to HTTP.
        fixed.append(("Strict-Transport-Security", "max-age=31536000; includeSubDomains"))
    fixed = tuple(fixed)

    def security_headers(response):
        headers = response.headers
        for name, value in fixed:
            if name not in headers:  # a view's own value wins
                headers[name] = value
        if response.mimetype == "text/html" and "Cache-Control" not in headers:
            # Pages carry health data: never keep them in a shared cache.
            headers["Cache-Control"] = "no-store"
        return response

    return security_headers


def _navigation() -> dict:
    """Which menu entries the logged-in user may use, and the words for roles."""
    common = {"locale_code": locale_code(), "role_names": role_names(), "licence_status": licence_status_names()}
    if not current_user.is_authenticated:
        return {"nav": [], **common}
    role = current_user.role
    # (endpoint, label, endpoints that highlight the entry by their start)
    entries = []
    if role == "vendor_admin":
        entries += [
            ("admin.practices", _("Practices"), ("admin.practice", "admin.create", "admin.change_licence",
                                                  "admin.issue_key", "admin.revoke_key")),
            ("admin.users", _("Users"), ("admin.users", "admin.change_user", "admin.issue_token", "admin.revoke_token")),
            ("admin.queue_overview", _("Queues"), ("admin.queue_overview", "admin.retry_job")),
        ]
    if role in ("vendor_admin", "group_admin"):
        entries += [("admin.usage", _("Usage"), ("admin.usage",)), ("settings.index", _("Settings"), ("settings.",))]
    entries.append(("replies.index", _("Replies"), ("replies.",)))
    entries.append(("support.lookup", _("Lookup"), ("support.lookup", "support.appointment", "support.reveal")))
    entries.append(("support.audit", _("Audit log"), ("support.audit",)))
    return {"nav": entries, **common}
