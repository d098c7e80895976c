"""Administrative changes shared by the JSON API and the portal pages.

Each function checks the change with the domain rules, writes it with an
audit entry, commits, and re-plans the reminders it touches. Problems come
back as `Invalid` (a list of field, message pairs) or `Conflict`.
"""
from datetime import date
from typing import Any

from flask import current_app
from sqlalchemy import select

from . import planning
from .access import Principal
from .audit import record
from .credentials import issue_personal_token, issue_practice_key
from .domain.settings import setting_problem
from .extensions import db
from .models import ApiToken, Licence, Patient, Practice, PracticeApiKey, PracticeGroup, User, utcnow
from .practices import licence_active, own_settings

SMS_NEEDS_LICENCE = "SMS can be switched on only while the practice holds an active licence"
REPLIES_NEED_NUMBER = "replies can be switched on only once the vendor has set up a reply number (MESSAGEBIRD_REPLY_NUMBER)"


class Invalid(Exception):
    """A change refused field by field: `errors` is a list of {"field", "message"}."""

    def __init__(self, errors: list[dict], detail: str | None = None):
        super().__init__(detail or "Some fields are invalid: " + ", ".join(e["field"] for e in errors) + ".")
        self.errors = errors


class Conflict(Invalid):
    """The object exists already."""


# --- re-planning ----------------------------------------------------------------

def replan_practice(practice: Practice) -> None:
    """Re-plan every reminder of `practice` and commit."""
    planning.replan_practice(practice)
    db.session.commit()


def replan_patient(patient: Patient) -> None:
    """Re-plan the reminders of one patient and commit."""
    planning.replan_patient(patient)
    db.session.commit()


def _replan(holder: Practice | PracticeGroup) -> None:
    """Re-plan in the caller's transaction, so the change and its plan commit together."""
    for practice in (holder.practices if isinstance(holder, PracticeGroup) else [holder]):
        planning.replan_practice(practice)


# --- tenants --------------------------------------------------------------------

def create_group(principal: Principal, slug: str, name: str) -> PracticeGroup:
    if db.session.scalar(select(PracticeGroup.id).where(PracticeGroup.slug == slug)):
        raise Conflict([{"field": "slug", "message": "a practice group with this slug exists already"}])
    group = PracticeGroup(slug=slug, name=name)
    db.session.add(group)
    db.session.flush()
    record(principal, "group.create", group, after={"slug": slug, "name": name})
    db.session.commit()
    return group


def create_practice(principal: Principal, group: PracticeGroup, slug: str, name: str,
                    timezone: str | None = None, phone: str | None = None) -> Practice:
    if timezone is not None and (problem := setting_problem("timezone", timezone)):
        raise Invalid([{"field": "timezone", "message": problem}])
    if db.session.scalar(select(Practice.id).where(Practice.slug == slug)):
        raise Conflict([{"field": "slug", "message": "a practice with this slug exists already"}])
    practice = Practice(slug=slug, name=name, group=group, timezone=timezone, phone=phone)
    db.session.add(practice)
    db.session.flush()
    record(principal, "practice.create", practice,
           after={"slug": slug, "name": name, "group": group.slug, "timezone": timezone, "phone": phone})
    db.session.commit()
    return practice


# --- settings -------------------------------------------------------------------

def change_settings(principal: Principal, holder: Practice | PracticeGroup, changes: dict[str, Any]) -> None:
    """Apply `changes` (None = inherit), checked by the domain rules; audit and re-plan.

    :raise Invalid: naming every refused field; nothing is changed then.
    """
    errors = [
        {"field": name, "message": problem}
        for name, value in changes.items()
        if name != "sms_enabled" and (problem := setting_problem(name, value))
    ]
    if changes.get("sms_enabled") and isinstance(holder, Practice) and not holder.sms_enabled \
            and not licence_active(holder):
        errors.append({"field": "sms_enabled", "message": SMS_NEEDS_LICENCE})
    # Without the vendor's number a patient's answer could not reach us (CONTRACT: replies cannot be switched on).
    if changes.get("replies_enabled") is True and not current_app.config["MESSAGEBIRD_REPLY_NUMBER"]:
        errors.append({"field": "replies_enabled", "message": REPLIES_NEED_NUMBER})
    if errors:
        raise Invalid(errors, "Some settings are invalid: " + ", ".join(e["field"] for e in errors) + ".")
    changes = dict(changes)
    if "sms_enabled" in changes and changes["sms_enabled"] is None:
        changes["sms_enabled"] = False
    before = {**own_settings(holder), **({"sms_enabled": holder.sms_enabled} if isinstance(holder, Practice) else {})}
    changed = {name: value for name, value in changes.items() if before.get(name) != value}
    for name, value in changed.items():
        setattr(holder, name, value)
    if changed:
        record(principal, f"{type(holder).__name__.lower()}.settings", holder,
               before={name: before[name] for name in changed}, after=changed)
        _replan(holder)
    db.session.commit()


# --- licences -------------------------------------------------------------------

def licence_record(licence: Licence) -> dict:
    return {
        "status": licence.status, "valid_from": licence.valid_from.isoformat(),
        "valid_until": licence.valid_until.isoformat() if licence.valid_until else None,
        "monthly_quota": licence.monthly_quota,
    }


def change_licence(principal: Principal, practice: Practice, status: str, valid_from: date,
                   valid_until: date | None = None, monthly_quota: int | None = None,
                   action: str = "licence.change") -> Licence:
    """Add a licence row (the history keeps every change), audit, re-plan.

    :raise Invalid: when the validity ends before it starts.
    """
    if valid_until is not None and valid_until < valid_from:
        raise Invalid([{"field": "valid_until", "message": "must not be before valid_from"}])
    before = licence_record(practice.licence) if practice.licence else None
    licence = Licence(practice=practice, created_by=principal.user, status=status, valid_from=valid_from,
                      valid_until=valid_until, monthly_quota=monthly_quota)
    db.session.add(licence)
    db.session.flush()
    db.session.refresh(practice, ["licences"])
    record(principal, action, practice, before=before, after=licence_record(licence))
    _replan(practice)
    db.session.commit()
    return licence


# --- API keys and tokens -----------------------------------------------------------

def issue_key(principal: Principal, practice: Practice, label: str | None) -> tuple[PracticeApiKey, str]:
    key, secret = issue_practice_key(practice, principal.user, label)
    db.session.flush()
    record(principal, "api_key.create", key, after={"prefix": key.prefix, "label": key.label})
    db.session.commit()
    return key, secret


def revoke_key(principal: Principal, key: PracticeApiKey) -> None:
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        record(principal, "api_key.revoke", key, before={"prefix": key.prefix}, after={"revoked": True})
        db.session.commit()


def issue_token(principal: Principal, user: User, label: str | None) -> tuple[ApiToken, str]:
    token, secret = issue_personal_token(user, label)
    db.session.flush()
    record(principal, "token.create", token, after={"user": user.email, "prefix": token.prefix, "label": label})
    db.session.commit()
    return token, secret


def revoke_token(principal: Principal, token: ApiToken) -> None:
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        record(principal, "token.revoke", token, before={"user": token.user.email, "prefix": token.prefix},
               after={"revoked": True})
        db.session.commit()


# --- users ----------------------------------------------------------------------------

def normal_email(email: str) -> str:
    """E-mail addresses are stored and compared trimmed and in lower case."""
    return email.strip().lower()


def user_by_email(email: str) -> User | None:
    return db.session.scalars(select(User).where(User.email == normal_email(email))).first()


def create_user(principal: Principal, email: str, role: str, group: PracticeGroup | None, password: str) -> User:
    email = normal_email(email)
    if db.session.scalar(select(User.id).where(User.email == email)):
        raise Conflict([{"field": "email", "message": "a user with this e-mail address exists already"}])
    user = User(email=email, role=role, group=group if role == "group_admin" else None)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    record(principal, "user.create", user, after={"email": email, "role": role, "group": group.slug if group else None})
    db.session.commit()
    return user


def change_user(principal: Principal, user: User, role: str, group: PracticeGroup | None, active: bool) -> None:
    before = {"role": user.role, "group": user.group.slug if user.group else None, "active": user.active}
    user.role, user.group, user.active = role, group if role == "group_admin" else None, active
    after = {"role": user.role, "group": user.group.slug if user.group else None, "active": user.active}
    if before != after:
        record(principal, "user.change", user, before=before, after=after)
    db.session.commit()


def change_password(user: User, password: str) -> None:
    user.set_password(password)
    record(Principal(user=user), "user.password", user)
    db.session.commit()
