"""Administration API: practice groups, practices, settings, licences, API keys, audit."""
from sqlalchemy import select

from ..access import group_condition, scoped
from ..audit import record
from ..credentials import issue_practice_key
from ..domain.settings import effective, setting_problem
from ..extensions import db
from ..models import AuditEntry, Licence, Practice, PracticeApiKey, PracticeGroup, utcnow
from ..practices import effective_settings, licence_active, own_settings
from . import schemas as s
from .core import Problem, current_principal, field_error, operation


# --- practice groups -------------------------------------------------------

@operation("GET", "/groups", summary="List the practice groups you may see", permission="read", response=s.GroupList)
def list_groups():
    groups = db.session.scalars(scoped(current_principal(), PracticeGroup).order_by(PracticeGroup.slug)).all()
    return s.GroupList(groups=[group_out(group) for group in groups])


@operation("POST", "/groups", summary="Create a practice group", permission="manage_tenants",
           body=s.GroupIn, response=s.GroupOut, status=201, errors=(409,))
def create_group(body: s.GroupIn):
    if db.session.scalar(select(PracticeGroup.id).where(PracticeGroup.slug == body.slug)):
        raise field_error(409, "slug", "a practice group with this slug exists already")
    group = PracticeGroup(slug=body.slug, name=body.name)
    db.session.add(group)
    db.session.flush()
    record(current_principal(), "group.create", group, after={"slug": group.slug, "name": group.name})
    db.session.commit()
    return group_out(group)


@operation("GET", "/groups/{group_slug}", summary="One practice group", permission="read", response=s.GroupOut)
def get_group(group: PracticeGroup):
    return group_out(group)


@operation("GET", "/groups/{group_slug}/settings", summary="The group's settings and where each comes from",
           permission="read", response=s.SettingsOut)
def get_group_settings(group: PracticeGroup):
    return group_settings_out(group)


@operation("PATCH", "/groups/{group_slug}/settings", summary="Override or inherit the group's settings",
           permission="write_settings", body=s.GroupSettingsIn, response=s.SettingsOut)
def patch_group_settings(group: PracticeGroup, body: s.GroupSettingsIn):
    change_settings(group, body)
    return group_settings_out(group)


# --- practices -------------------------------------------------------------

@operation("GET", "/practices", summary="List the practices you may see", permission="read", response=s.PracticeList)
def list_practices():
    practices = db.session.scalars(scoped(current_principal(), Practice).order_by(Practice.slug)).all()
    return s.PracticeList(practices=[practice_out(practice) for practice in practices])


@operation("POST", "/practices", summary="Create a practice in a group", permission="manage_tenants",
           body=s.PracticeIn, response=s.PracticeOut, status=201, errors=(409,))
def create_practice(body: s.PracticeIn):
    group = db.session.scalars(scoped(current_principal(), PracticeGroup).where(PracticeGroup.slug == body.group)).first()
    if group is None:
        raise field_error(422, "group", "no such practice group")
    if body.timezone is not None and (problem := setting_problem("timezone", body.timezone)):
        raise field_error(422, "timezone", problem)
    if db.session.scalar(select(Practice.id).where(Practice.slug == body.slug)):
        raise field_error(409, "slug", "a practice with this slug exists already")
    practice = Practice(slug=body.slug, name=body.name, group=group, timezone=body.timezone, phone=body.phone)
    db.session.add(practice)
    db.session.flush()
    record(current_principal(), "practice.create", practice, after=body.model_dump(mode="json"))
    db.session.commit()
    return practice_out(practice)


@operation("GET", "/practices/{practice_slug}", summary="One practice", permission="read", response=s.PracticeOut)
def get_practice(practice: Practice):
    return practice_out(practice)


@operation("GET", "/practices/{practice_slug}/settings", summary="Effective settings and where each comes from",
           permission="read", response=s.SettingsOut)
def get_practice_settings(practice: Practice):
    return practice_settings_out(practice)


@operation("PATCH", "/practices/{practice_slug}/settings", summary="Override or inherit the practice's settings",
           permission="write_settings", body=s.PracticeSettingsIn, response=s.SettingsOut)
def patch_practice_settings(practice: Practice, body: s.PracticeSettingsIn):
    if body.sms_enabled and "sms_enabled" in body.model_fields_set and not licence_active(practice):
        raise field_error(422, "sms_enabled", "SMS can be switched on only while the practice holds an active licence")
    change_settings(practice, body)
    return practice_settings_out(practice)


# --- licences ----------------------------------------------------------------

@operation("GET", "/practices/{practice_slug}/licence", summary="The licence in force and its full history",
           permission="read", response=s.LicenceHistory)
def get_licence(practice: Practice):
    history = [licence_out(licence) for licence in practice.licences]
    return s.LicenceHistory(current=history[0] if history else None, history=history)


@operation("PUT", "/practices/{practice_slug}/licence", summary="Grant, extend, suspend or revoke the licence",
           permission="manage_licences", body=s.LicenceIn, response=s.LicenceOut)
def put_licence(practice: Practice, body: s.LicenceIn):
    if body.valid_until is not None and body.valid_until < body.valid_from:
        raise field_error(422, "valid_until", "must not be before valid_from")
    principal = current_principal()
    before = licence_out(practice.licence).model_dump(mode="json") if practice.licence else None
    licence = Licence(practice=practice, created_by=principal.user, **body.model_dump())
    db.session.add(licence)
    db.session.flush()
    db.session.refresh(practice, ["licences"])
    record(principal, "licence.change", practice, before=before, after=body.model_dump(mode="json"))
    db.session.commit()
    return licence_out(licence)


# --- API keys for the practice program ---------------------------------------

@operation("GET", "/practices/{practice_slug}/api-keys", summary="The practice's API keys (without the keys)",
           permission="read", response=s.ApiKeyList)
def list_api_keys(practice: Practice):
    keys = db.session.scalars(
        scoped(current_principal(), PracticeApiKey)
        .where(PracticeApiKey.practice_id == practice.id)
        .order_by(PracticeApiKey.id.desc())
    ).all()
    return s.ApiKeyList(api_keys=[s.ApiKeyOut.model_validate(key, from_attributes=True) for key in keys])


@operation("POST", "/practices/{practice_slug}/api-keys", summary="Issue an API key; it is shown only once",
           permission="manage_keys", body=s.ApiKeyIn, response=s.ApiKeyCreated, status=201)
def create_api_key(practice: Practice, body: s.ApiKeyIn):
    principal = current_principal()
    key, secret = issue_practice_key(practice, principal.user, body.label)
    db.session.flush()
    record(principal, "api_key.create", key, after={"prefix": key.prefix, "label": key.label})
    db.session.commit()
    return s.ApiKeyCreated(key=secret, **s.ApiKeyOut.model_validate(key, from_attributes=True).model_dump())


@operation("DELETE", "/practices/{practice_slug}/api-keys/{key_id}", summary="Revoke an API key",
           permission="manage_keys", status=204)
def revoke_api_key(practice: Practice, key_id: str):
    key = db.session.scalars(
        scoped(current_principal(), PracticeApiKey).where(
            PracticeApiKey.practice_id == practice.id, PracticeApiKey.id == _int_id(key_id)
        )
    ).first()
    if key is None:
        raise Problem(404, "No such API key.")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        record(current_principal(), "api_key.revoke", key, before={"prefix": key.prefix}, after={"revoked": True})
        db.session.commit()


# --- audit log -----------------------------------------------------------------

@operation("GET", "/audit", summary="The audit log, newest first", permission="read", query=s.AuditQuery,
           response=s.AuditPage)
def list_audit(query: s.AuditQuery):
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
    """Apply the fields sent (null = inherit), check each with the domain rules, audit."""
    changes = {name: getattr(body, name) for name in body.model_fields_set}
    errors = [
        {"field": name, "message": problem}
        for name, value in changes.items()
        if name != "sms_enabled" and (problem := setting_problem(name, value))
    ]
    if errors:
        raise Problem(422, "Some settings are invalid: " + ", ".join(e["field"] for e in errors) + ".", errors)
    before = {**own_settings(holder), **({"sms_enabled": holder.sms_enabled} if isinstance(holder, Practice) else {})}
    if "sms_enabled" in changes and changes["sms_enabled"] is None:
        changes["sms_enabled"] = False
    for name, value in changes.items():
        setattr(holder, name, value)
    record(current_principal(), f"{type(holder).__name__.lower()}.settings", holder,
           before={name: before[name] for name in changes}, after=changes)
    db.session.commit()


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
        monthly_quota=licence.monthly_quota, active=licence_active(licence.practice) if licence is licence.practice.licence else False,
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


def _int_id(value: str) -> int:
    if not value.isdigit() or len(value) > 12:
        raise Problem(404, "No such API key.")
    return int(value)
