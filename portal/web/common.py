"""What every portal view needs: the caller as a Principal, role gates,
pagination and the Jinja filters."""
from datetime import date, datetime
from functools import wraps
from typing import Callable
from zoneinfo import ZoneInfo

from flask import abort, request
from flask_babel import format_date, format_datetime, format_number, get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_sqlalchemy.pagination import Pagination, SelectPagination
from sqlalchemy import func, select
from sqlalchemy.orm import lazyload
from wtforms.fields.choices import SelectChoice

from ..access import Principal
from ..domain.inputs import page_number
from ..domain import audit_text
from ..domain.phones import mask_phone
from ..domain.reasons import reason_text, status_text
from ..domain.verdict import verdict_text
from ..extensions import db
from ..models import LICENCE_STATUSES
from ..support import kind_text, licence_status_text
from ..i18n import domain_text
from ..practices import effective_setting

PER_PAGE = 50


def principal() -> Principal:
    """The logged-in user as the caller the access helpers understand."""
    return Principal(user=current_user._get_current_object())


def permission_required(permission: str) -> Callable:
    """Log in first; then :raise 403: unless the user's role allows `permission`."""
    def decorator(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not principal().can(permission):
                abort(403)
            return view(*args, **kwargs)
        return wrapped
    return decorator


def roles_required(*roles: str) -> Callable:
    """Log in first; then :raise 403: unless the user has one of `roles`."""
    def decorator(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)
        return wrapped
    return decorator


def paginate(statement, per_page: int = PER_PAGE):
    """One page of `statement` (page from ?page=, bounded): two queries, count and rows."""
    page = page_number(request.args.get("page", type=int))
    return db.paginate(statement, page=page, per_page=per_page, error_out=False)


class _CappedPage(SelectPagination):
    """Counted up to `cap` rows (`capped` when more match): a common surname matches hundreds of
    thousands of appointments, and counting them all costs more than finding the page."""

    def _query_count(self) -> int:
        cap = self._query_args["cap"]
        rows = self._query_args["select"].options(lazyload("*")).order_by(None).limit(cap + 1).subquery()
        count = db.session.scalar(select(func.count()).select_from(rows))
        self.capped = count > cap
        return min(count, cap)


class _PageOfIds(Pagination):
    def _query_items(self) -> list:
        ids = list(db.session.scalars(self._query_args["ids"].limit(self.per_page).offset(self._query_offset)))
        rows = {row.id: row for row in self._query_args["load"](ids)}
        return [rows[row_id] for row_id in ids if row_id in rows]

    def _query_count(self) -> int:
        return db.session.scalar(select(func.count()).select_from(self._query_args["ids"].order_by(None).subquery()))


def paginate_capped(statement, cap: int, per_page: int = PER_PAGE) -> Pagination:
    """One page of `statement`, its total counted up to `cap` (then `page.capped`)."""
    page = page_number(request.args.get("page", type=int))
    return _CappedPage(select=statement, session=db.session, page=page, per_page=per_page, error_out=False,
                       cap=cap)


def paginate_ids(ids, load: Callable[[list[int]], list], per_page: int = PER_PAGE) -> Pagination:
    """One page of the rows whose IDs `ids` selects in order: the window and the count from the IDs
    alone (an index can serve them), then `load` reads only the page's rows."""
    page = page_number(request.args.get("page", type=int))
    return _PageOfIds(page=page, per_page=per_page, error_out=False, ids=ids, load=load)


def locale_code() -> str:
    return str(get_locale() or "de")


def role_names() -> dict[str, str]:
    return {"vendor_admin": _("Vendor administrator"), "support": _("Support"), "group_admin": _("Group administrator")}


def licence_status_names() -> dict[str, str]:
    return {code: licence_status_text(code) for code in LICENCE_STATUSES}


def _datetime(value: datetime | None, zone: str | None = None) -> str:
    if value is None:
        return "–"
    if zone:
        value = value.astimezone(ZoneInfo(zone))
        return value.strftime("%d.%m.%Y %H:%M")
    return format_datetime(value, "dd.MM.yyyy HH:mm")


def _date(value: date | None) -> str:
    return format_date(value, "dd.MM.yyyy") if value else "–"


def described_by(field, *ids: str | None) -> str | bool:
    """The aria-describedby of a form field: its hints (`ids`) and, after a bad submit, its errors.

    False when there is nothing, so that WTForms leaves the attribute out.
    """
    names = [name for name in ids if name] + ([f"{field.id}-error"] if field.errors else [])
    return " ".join(names) or False


def register_filters(app) -> None:
    app.jinja_env.globals["described_by"] = described_by
    app.jinja_env.filters.update(
        dt=_datetime,
        d=_date,
        mask=mask_phone,
        number=format_number,
        reason=lambda code: reason_text(code, locale_code()) if code else "",
        status=lambda code: status_text(code, locale_code()) if code else "",
        verdict=lambda code: verdict_text(code, locale_code()) if code else "",
        sms_kind=kind_text,
        audit_sentence=lambda entry: audit_text.describe(entry.action, entry.object_key, locale_code()),
        audit_changes=lambda entry: audit_text.changes(entry.before, entry.after, locale_code()),
        domain=domain_text,
        zone=lambda practice: effective_setting(practice, "timezone"),
    )


def choices(pairs) -> list[SelectChoice]:
    """(value, label) pairs as the choices of a WTForms SelectField."""
    return [SelectChoice(value, label) for value, label in pairs]
