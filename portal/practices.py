"""Practice-level facts every part asks the same way: effective settings,
the local date, whether the licence is active."""
from datetime import date, datetime
from zoneinfo import ZoneInfo

from .domain import settings as settings_rules
from .models import Licence, Practice, PracticeGroup, utcnow


def own_settings(holder: Practice | PracticeGroup) -> dict:
    """The values set at this level (None where inherited)."""
    return {name: getattr(holder, name) for name in settings_rules.INHERITED}


def effective_settings(practice: Practice) -> dict[str, settings_rules.Effective]:
    """Effective value and source of each setting for `practice`."""
    return settings_rules.effective(own_settings(practice.group), own_settings(practice))


def effective_setting(practice: Practice, name: str):
    """The effective value of one setting for `practice` (a page of results asks for its zone often)."""
    return settings_rules.effective_one(name, getattr(practice.group, name), getattr(practice, name)).value


def local_zone(practice: Practice) -> ZoneInfo:
    return ZoneInfo(effective_setting(practice, "timezone"))


def local_now(practice: Practice, now: datetime | None = None) -> datetime:
    return (now or utcnow()).astimezone(local_zone(practice))


def local_today(practice: Practice, now: datetime | None = None) -> date:
    """Today's date where the practice is: licences are valid by local days."""
    return local_now(practice, now).date()


def effective_values(practice: Practice) -> dict:
    """Just the effective value of each setting, as planning and sending need them."""
    return {name: item.value for name, item in effective_settings(practice).items()}


def licence_in_force(practice: Practice, now: datetime | None = None) -> Licence | None:
    """The licence row that governs sending today (local date), not a renewal starting later."""
    return practice.licence_on(local_today(practice, now))


def licence_active(practice: Practice, now: datetime | None = None) -> bool:
    return practice.has_active_licence(local_today(practice, now))
