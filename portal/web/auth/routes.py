"""Login (rate-limited), logout, password change, language."""
import re
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.security import check_password_hash, generate_password_hash

from ... import administration
from ...domain.inputs import text_problem
from ...extensions import db, limiter
from ...models import User
from .forms import LanguageForm, LoginForm, PasswordForm

bp = Blueprint("auth", __name__)

# Checked when the e-mail is unknown, so a wrong address takes as long as a wrong password.
_DUMMY_HASH = generate_password_hash("not a password")


def _limits_off() -> bool:
    # The limiter object is shared; each app says for itself whether it limits.
    return not current_app.config.get("RATELIMIT_ENABLED", True)


def _account_key() -> str:
    return "login:" + administration.normal_email(request.form.get("email") or "")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("20 per minute", methods=["POST"], exempt_when=_limits_off)
@limiter.limit("5 per minute", key_func=_account_key, methods=["POST"], exempt_when=_limits_off)
def login():
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        user = _authenticated(form.email.data, form.password.data)
        if user is not None:
            session.clear()
            login_user(user)
            return redirect(_safe_next(form.next.data) or url_for("home"))
        flash(_("E-mail address or password is wrong."), "error")
    return render_template("auth/login.html", form=form)


@bp.errorhandler(429)
def too_many_attempts(_error):
    flash(_("Too many login attempts. Please wait a minute and try again."), "error")
    return render_template("auth/login.html", form=LoginForm()), 429


@bp.post("/logout")
@login_required
def logout():
    """End this session and every other one of the user (a copied cookie too)."""
    current_user.end_sessions()
    db.session.commit()
    logout_user()
    session.clear()
    flash(_("You are logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password():
    form = PasswordForm()
    if form.validate_on_submit():
        if current_user.check_password(form.current.data):
            administration.change_password(current_user, form.new.data)
            login_user(current_user._get_current_object())  # this session goes on; every other one has ended
            flash(_("Your password has been changed."), "success")
            return redirect(url_for("home"))
        form.current.errors.append(_("This is not your current password."))
    return render_template("auth/password.html", form=form)


@bp.post("/language")
def language():
    form = LanguageForm()
    if form.validate_on_submit():
        session["locale"] = form.locale.data
        if current_user.is_authenticated:
            current_user.locale = form.locale.data
            db.session.commit()
    return redirect(_safe_next(form.next.data) or url_for("home"))


def _authenticated(email: str, password: str) -> User | None:
    user = administration.user_by_email(email)
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    return user if user.check_password(password) and user.active else None


# What a browser drops from a URL before reading it (WHATWG URL parser): tabs and line
# breaks anywhere, and C0 controls and spaces at either end; it reads a backslash as a slash.
_DROPPED = re.compile(r"[\t\n\r]")
_ENDS = "".join(chr(code) for code in range(0x21))


def _safe_next(target: str | None) -> str | None:
    """`target` as the browser will read it, when that is a path on this site: never another host."""
    path = _DROPPED.sub("", target or "").strip(_ENDS).replace("\\", "/")
    if not path.startswith("/") or path.startswith("//") or text_problem(path):
        return None
    parts = urlsplit(path)
    return path if not parts.scheme and not parts.netloc else None
