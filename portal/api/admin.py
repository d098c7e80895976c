"""Administration API: practice groups, practices, settings, licences, API keys, audit."""
from contextlib import contextmanager

from sqlalchemy import select

from .. import administration
from ..access import group_condition, scoped
from ..domain.settings import effective
from ..extensions import db
from ..models import AuditEntry, Licence, Practice, PracticeApiKey, PracticeGroup
from ..practices import effective_settings, licence_active, licence_in_force, own_settings
from . import schemas as s
from .core import Problem, current_principal, field_error, operation


# --- practice groups -------------------------------------------------------

@operation("GET", "/groups", summary="List the practice groups you may see", permission="read", response=s.GroupList)
def list_groups():
    """All practice groups in your scope, by slug: every group for the vendor's staff, your own for a group administrator."""
    groups = db.session.scalars(scoped(current_principal(), PracticeGroup).order_by(PracticeGroup.slug)).all()
    return s.GroupList(groups=[group_out(group) for group in groups])


@operation("POST", "/groups", summary="Create a practice group", permission="manage_tenants",
           body=s.GroupIn, response=s.GroupOut, status=201, errors=(409,))
def create_group(body: s.GroupIn):
    """A new, empty practice group.

    :raise 409: the slug is taken."""
    with _problems():
        group = administration.create_group(current_principal(), body.slug, body.name)
    return group_out(group)


@operation("GET", "/groups/{group_slug}", summary="One practice group", permission="read", response=s.GroupOut)
def get_group(group: PracticeGroup):
    """The group and the slugs of its practices.

    :raise 404: no such group in your scope."""
    return group_out(group)


@operation("GET", "/groups/{group_slug}/settings", summary="The group's settings and where each comes from",
           permission="read", response=s.SettingsOut)
def get_group_settings(group: PracticeGroup):
    """Each inherited setting: its effective value for the group, `source` (group or default) and the group's own value."""
    return group_settings_out(group)


@operation("PATCH", "/groups/{group_slug}/settings", summary="Override or inherit the group's settings",
           permission="write_settings", body=s.GroupSettingsIn, response=s.SettingsOut)
def patch_group_settings(group: PracticeGroup, body: s.GroupSettingsIn):
    """Set the fields sent; null inherits the default again. Fields not sent stay as they are; the group's practices
    are re-planned. Answers the settings as GET does.

    :raise 422: naming each invalid value (an unknown placeholder in a template, say)."""
    change_settings(group, body)
    return group_settings_out(group)


# --- practices -------------------------------------------------------------

@operation("GET", "/practices", summary="List the practices you may see", permission="read", response=s.PracticeList)
def list_practices():
    """All practices in your scope, by slug, each with its licence in force."""
    practices = db.session.scalars(scoped(current_principal(), Practice).order_by(Practice.slug)).all()
    return s.PracticeList(practices=[practice_out(practice) for practice in practices])


@operation("POST", "/practices", summary="Create a practice in a group", permission="manage_tenants",
           body=s.PracticeIn, response=s.PracticeOut, status=201, errors=(409,))
def create_practice(body: s.PracticeIn):
    """A new practice in the group `group`; SMS stay off until it is licensed and `sms_enabled` is set.

    :raise 404: no such group in your scope (`errors` names `group`).
    :raise 409: the slug is taken."""
    group = db.session.scalars(scoped(current_principal(), PracticeGroup).where(PracticeGroup.slug == body.group)).first()
    if group is None:
        raise field_error(404, "group", "no such practice group")
    with _problems():
        practice = administration.create_practice(
            current_principal(), group, body.slug, body.name, timezone=body.timezone, phone=body.phone
        )
    return practice_out(practice)


@operation("GET", "/practices/{practice_slug}", summary="One practice", permission="read", response=s.PracticeOut)
def get_practice(practice: Practice):
    """The practice, its effective time zone and its licence in force.

    :raise 404: no such practice in your scope."""
    return practice_out(practice)


@operation("GET", "/practices/{practice_slug}/settings", summary="Effective settings and where each comes from",
           permission="read", response=s.SettingsOut)
def get_practice_settings(practice: Practice):
    """Each setting's effective value, `source` (practice, group or default) and the practice's own value."""
    return practice_settings_out(practice)


@operation("PATCH", "/practices/{practice_slug}/settings", summary="Override or inherit the practice's settings",
           permission="write_settings", body=s.PracticeSettingsIn, response=s.SettingsOut)
def patch_practice_settings(practice: Practice, body: s.PracticeSettingsIn):
    """Set the fields sent; null inherits from the group again. The practice's reminders are re-planned.

    :raise 422: naming each invalid value, or `sms_enabled` without an active licence."""
    change_settings(practice, body)
    return practice_settings_out(practice)


# --- licences ----------------------------------------------------------------

@operation("GET", "/practices/{practice_slug}/licence", summary="The licence in force and its full history",
           permission="read", response=s.LicenceHistory)
def get_licence(practice: Practice):
    """The licence in force (null without one) and every licence granted, newest first."""
    history = [licence_out(licence) for licence in practice.licences]
    return s.LicenceHistory(current=history[0] if history else None, history=history)


@operation("PUT", "/practices/{practice_slug}/licence", summary="Grant, extend, suspend or revoke the licence",
           permission="manage_licences", body=s.LicenceIn, response=s.LicenceOut)
def put_licence(practice: Practice, body: s.LicenceIn):
    """A new licence from `valid_from`; the previous ones stay in the history, and the practice's reminders
    are re-planned (no SMS without an active licence).

    :raise 422: `valid_until` before `valid_from`."""
    with _problems():
        licence = administration.change_licence(current_principal(), practice, **body.model_dump())
    return licence_out(licence)


# --- API keys for the practice program ---------------------------------------

@operation("GET", "/practices/{practice_slug}/api-keys", summary="The practice's API keys (without the keys)",
           permission="read", response=s.ApiKeyList)
def list_api_keys(practice: Practice):
    """The practice's API keys, newest first: prefix, label and use, never the key itself."""
    keys = db.session.scalars(
        scoped(current_principal(), PracticeApiKey)
        .where(PracticeApiKey.practice_id == practice.id)
        .order_by(PracticeApiKey.id.desc())
    ).all()
    return s.ApiKeyList(api_keys=[s.ApiKeyOut.model_validate(key, from_attributes=True) for key in keys])


@operation("POST", "/practices/{practice_slug}/api-keys", summary="Issue an API key; it is shown only once",
           permission="manage_keys", body=s.ApiKeyIn, response=s.ApiKeyCreated, status=201)
def create_api_key(practice: Practice, body: s.ApiKeyIn):
    """A new key for the practice program; `key` is in this answer only and cannot be shown again."""
    key, secret = administration.issue_key(current_principal(), practice, body.label)
    return s.ApiKeyCreated(key=secret, **s.ApiKeyOut.model_validate(key, from_attributes=True).model_dump())


@operation("DELETE", "/practices/{practice_slug}/api-keys/{key_id}", summary="Revoke an API key",
           permission="manage_keys", status=204)
def revoke_api_key(practice: Practice, key_id: str):
    """The key stops working at once.

    :raise 404: no such key of this practice."""
    key = db.session.scalars(
        scoped(current_principal(), PracticeApiKey).where(
            PracticeApiKey.practice_id == practice.id, PracticeApiKey.id == _int_id(key_id)
        )
    ).first()
    if key is None:
        raise Problem(404, "No such API key.")
    administration.revoke_key(current_principal(), key)


# --- audit log -----------------------------------------------------------------

@operation("GET", "/audit", summary="The audit log, newest first", permission="read", query=s.AuditQuery,
           response=s.AuditPage)
def list_audit(query: s.AuditQuery):
    """Every change and every lookup in your scope, newest first; page on with `before=next_before`."""
    statement = select(AuditEntry).where(group_condition(current_principal(), AuditEntry.group_id))
    if query.before:
        statement = statement.where(AuditEntry.id < query.before)
    entries = db.session.scalars(statement.order_by(AuditEntry.id.desc()).limit(query.limit + 1)).all()
    page = entries[: query.limit]
    return s.AuditPage(
        entries=[s.AuditOut.model_validate(entry, from_attributes=True) for entry in page],
        next_before=page[-1].id if len(entries) > query.limit else None,
    )


# --- shapes --------------------------------------------------------------------

def change_settings(holder: Practice | PracticeGroup, body: s.GroupSettingsIn) -> None:
    """Apply the fields sent (null = inherit), checked by the domain rules (422 naming each)."""
    with _problems():
        administration.change_settings(
            current_principal(), holder, {name: getattr(body, name) for name in body.model_fields_set}
        )


@contextmanager
def _problems():
    """The service's refusals as problem+json: 409 for a conflict, 422 for invalid fields."""
    try:
        yield
    except administration.Invalid as error:
        raise Problem(409 if isinstance(error, administration.Conflict) else 422, str(error), error.errors) from None


def group_out(group: PracticeGroup) -> s.GroupOut:
    return s.GroupOut(
        slug=group.slug, name=group.name, created_at=group.created_at,
        practices=[practice.slug for practice in group.practices],
    )


def practice_out(practice: Practice) -> s.PracticeOut:
    return s.PracticeOut(
        slug=practice.slug, name=practice.name, group=practice.group.slug,
        timezone=effective_settings(practice)["timezone"].value, phone=practice.phone,
        sms_enabled=practice.sms_enabled, licence=licence_out(practice.licence) if practice.licence else None,
        last_seen_at=practice.last_seen_at, created_at=practice.created_at,
    )


def licence_out(licence: Licence) -> s.LicenceOut:
    return s.LicenceOut(
        status=licence.status, valid_from=licence.valid_from, valid_until=licence.valid_until,
        monthly_quota=licence.monthly_quota, active=licence is licence_in_force(licence.practice) and licence_active(licence.practice),
        created_at=licence.created_at, created_by=licence.created_by.email if licence.created_by else None,
    )


def group_settings_out(group: PracticeGroup) -> s.SettingsOut:
    own = own_settings(group)
    return s.SettingsOut(settings={
        name: s.SettingValue(value=item.value, source=item.source, own=own[name])
        for name, item in effective(own).items()
    })


def practice_settings_out(practice: Practice) -> s.SettingsOut:
    own = own_settings(practice)
    result = {
        name: s.SettingValue(value=item.value, source=item.source, own=own[name])
        for name, item in effective_settings(practice).items()
    }
    result["sms_enabled"] = s.SettingValue(value=practice.sms_enabled, source="practice", own=practice.sms_enabled)
    return s.SettingsOut(settings=result)


MAX_ID = 2**31 - 1  # the database's integer IDs; anything larger names nothing


def _int_id(value: str) -> int:
    if not value.isdigit() or int(value) > MAX_ID:
        raise Problem(404, "No such API key.")
    return int(value)
