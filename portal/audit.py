"""Writing the audit log: every administrative change, licence change and reveal."""
from typing import Any

from .access import Principal
from .extensions import db
from .models import AuditEntry, Practice, PracticeGroup


def record(
    principal: Principal,
    action: str,
    target: Any,
    *,
    before: dict | None = None,
    after: dict | None = None,
) -> AuditEntry:
    """Add an audit entry for `action` on `target` to the current transaction."""
    group_id, practice_id = _tenant_of(target)
    entry = AuditEntry(
        actor_id=principal.user.id if principal.user else None,
        actor=principal.label,
        action=action,
        object_type=type(target).__name__,
        object_key=_key_of(target),
        group_id=group_id,
        practice_id=practice_id,
        before=before,
        after=after,
    )
    db.session.add(entry)
    return entry


def _tenant_of(target: Any) -> tuple[int | None, int | None]:
    if isinstance(target, PracticeGroup):
        return target.id, None
    if isinstance(target, Practice):
        return target.group_id, target.id
    practice = getattr(target, "practice", None)
    if isinstance(practice, Practice):
        return practice.group_id, practice.id
    group = getattr(target, "group", None)
    return (group.id if isinstance(group, PracticeGroup) else None), None


def _key_of(target: Any) -> str:
    for attribute in ("slug", "email", "external_id", "prefix"):
        if getattr(target, attribute, None):
            return str(getattr(target, attribute))
    return str(getattr(target, "id", ""))
