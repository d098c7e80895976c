"""Who may see and do what: the one place where tenancy is enforced.

Every query a request or job runs for a caller goes through these helpers;
views never filter by tenant by hand. A foreign object is always "not found".
"""
import functools
from dataclasses import dataclass

from flask import abort
from sqlalchemy import ColumnElement, Select, bindparam, select, true

from .extensions import db
from .models import Practice, PracticeApiKey, PracticeGroup, User

PERMISSIONS = {
    "vendor_admin": {
        "read", "write_settings", "manage_tenants", "manage_licences", "manage_keys",
        "manage_users", "replan", "reveal",
    },
    "support": {"read", "reveal"},
    "group_admin": {"read", "write_settings", "replan", "reveal"},
    "practice_program": {"practice_sync"},
}


def roles_allowed(permission: str) -> list[str]:
    """The roles (users' roles, or practice_program for a practice key) that hold `permission`."""
    return [role for role, permissions in PERMISSIONS.items() if permission in permissions]


@dataclass(frozen=True)
class Principal:
    """The caller: a user (portal session or personal token) or a practice program."""

    user: User | None = None
    practice_key: PracticeApiKey | None = None

    @property
    def role(self) -> str:
        return self.user.role if self.user else "practice_program"

    @property
    def practice_id(self) -> int | None:
        return self.practice_key.practice_id if self.practice_key else None

    @property
    def practice(self) -> Practice | None:
        """A practice key's own practice, the one practice in its scope: loaded with the key
        (`credentials.authenticate`), so it needs no lookup of its own."""
        return self.practice_key.practice if self.practice_key else None

    @property
    def label(self) -> str:
        if self.user:
            return self.user.email
        return f"practice program ({self.practice_key.practice.slug}, key {self.practice_key.prefix})"

    def can(self, permission: str) -> bool:
        return permission in PERMISSIONS[self.role]


def require(principal: Principal, permission: str) -> None:
    """:raise 403: when the caller's role does not allow `permission`."""
    if not principal.can(permission):
        abort(403, description="Your role does not allow this action.")


def practice_condition(principal: Principal, practice_id_column) -> ColumnElement[bool]:
    """SQL condition limiting rows with a practice ID to what the caller may see."""
    if principal.role in ("vendor_admin", "support"):
        return true()
    if principal.role == "group_admin":
        return practice_id_column.in_(select(Practice.id).where(Practice.group_id == principal.user.group_id))
    return practice_id_column == principal.practice_id


def group_condition(principal: Principal, group_id_column) -> ColumnElement[bool]:
    """SQL condition limiting rows with a group ID to what the caller may see."""
    if principal.role in ("vendor_admin", "support"):
        return true()
    if principal.role == "group_admin":
        return group_id_column == principal.user.group_id
    return group_id_column.in_(select(Practice.group_id).where(Practice.id == principal.practice_id))


def scoped(principal: Principal, model) -> Select:
    """`select(model)` limited to the caller's tenants."""
    if model is PracticeGroup:
        return select(model).where(group_condition(principal, PracticeGroup.id))
    if model is Practice:
        return select(model).where(practice_condition(principal, Practice.id))
    return select(model).where(practice_condition(principal, model.practice_id))


def scoped_to_practice(practice: Practice, model) -> Select:
    """`select(model)` limited to one practice: for work done on that practice's behalf (its sync)."""
    return select(model).where(model.practice_id == practice.id)


@functools.cache
def scoped_to_a_practice(model) -> Select:
    """`scoped_to_practice` for whichever practice is given as the parameter `practice_id`: a statement a
    request runs every time is built once (building one costs about 0.1 ms), and runs only with an ID."""
    return select(model).where(model.practice_id == bindparam("practice_id"))


def get_or_404(principal: Principal, model, *conditions, description: str | None = None, load=()):
    """The one object of `model` matching `conditions` within the caller's scope, with the `load` options
    (eager loads) applied.

    :raise 404: when it does not exist or belongs to another tenant.
    """
    statement = scoped(principal, model).where(*conditions).options(*load).limit(1)
    found = db.session.scalars(statement).unique().first()
    if found is None:
        abort(404, description=description or f"No such {model.__name__.lower()}.")
    return found


def get_group_or_404(principal: Principal, slug: str) -> PracticeGroup:
    """:raise 404: unless the caller may see the practice group `slug`."""
    return get_or_404(principal, PracticeGroup, PracticeGroup.slug == slug, description="No such practice group.")


def get_practice_or_404(principal: Principal, slug: str) -> Practice:
    """:raise 404: unless the caller may see the practice `slug`."""
    return get_or_404(principal, Practice, Practice.slug == slug, description="No such practice.")
