"""Audit entries as sentences: what was done to what, and each change as before → after.

The log stores codes and JSON (`licence.suspend`, {"status": "active"}) so it
stays exact and filterable; people read a sentence in their language. An
action without a sentence here is shown by its code, never dropped.
"""
from dataclasses import dataclass
from datetime import date
from typing import Any

from .reasons import language

_ACTIONS = {
    "group.create": ("Praxisgruppe {object} angelegt", "Practice group {object} created"),
    "practice.create": ("Praxis {object} angelegt", "Practice {object} created"),
    "practice.settings": ("Einstellungen der Praxis {object} geändert", "Settings of practice {object} changed"),
    "practicegroup.settings": ("Einstellungen der Praxisgruppe {object} geändert",
                               "Settings of practice group {object} changed"),
    "licence.grant": ("Lizenz für {object} erteilt", "Licence granted to {object}"),
    "licence.extend": ("Lizenz für {object} verlängert", "Licence of {object} extended"),
    "licence.suspend": ("Lizenz für {object} ausgesetzt", "Licence of {object} suspended"),
    "licence.revoke": ("Lizenz für {object} widerrufen", "Licence of {object} revoked"),
    "licence.change": ("Lizenz für {object} geändert", "Licence of {object} changed"),
    "api_key.create": ("API-Schlüssel {object} ausgestellt", "API key {object} issued"),
    "api_key.revoke": ("API-Schlüssel {object} gesperrt", "API key {object} revoked"),
    "token.create": ("Persönliches Token {object} ausgestellt", "Personal token {object} issued"),
    "token.revoke": ("Persönliches Token {object} gesperrt", "Personal token {object} revoked"),
    "user.create": ("Benutzer {object} angelegt", "User {object} created"),
    "user.change": ("Benutzer {object} geändert", "User {object} changed"),
    "user.password": ("Passwort von {object} geändert", "Password of {object} changed"),
    "lookup.api": ("Suche über die API", "Lookup through the API"),
    "phone.reveal": ("Handynummer von Patient {object} angezeigt", "Mobile number of patient {object} revealed"),
    "patient.replan": ("Erinnerungen von Patient {object} neu geplant", "Reminders of patient {object} re-planned"),
    "practice.replan": ("Erinnerungen der Praxis {object} neu geplant", "Reminders of practice {object} re-planned"),
    "quota.warning": ("Warnung: 80 % des SMS-Kontingents von {object} verbraucht",
                      "Warning: 80 % of the SMS quota of {object} used"),
}

_FIELDS = {
    "status": ("Status", "status"), "valid_from": ("gültig ab", "valid from"),
    "valid_until": ("gültig bis", "valid until"), "monthly_quota": ("Monatskontingent", "monthly quota"),
    "role": ("Rolle", "role"), "group": ("Gruppe", "group"), "active": ("aktiv", "active"),
    "email": ("E-Mail", "email"), "name": ("Name", "name"), "slug": ("Kürzel", "slug"),
    "sms_enabled": ("SMS eingeschaltet", "SMS switched on"), "send_policy": ("Sendezeitpunkt", "send policy"),
    "send_time": ("Sendeuhrzeit", "send time"), "hours_before": ("Stunden vorher", "hours before"),
    "quiet_start": ("Ruhezeit ab", "quiet hours from"), "quiet_end": ("Ruhezeit bis", "quiet hours until"),
    "min_lead_minutes": ("Mindestvorlauf (Minuten)", "minimum lead (minutes)"),
    "template": ("Erinnerungstext", "reminder text"), "sender": ("Absender", "sender"),
    "timezone": ("Zeitzone", "time zone"),
    "change_notice": ("Änderungshinweise", "change notices"),
    "change_template_moved": ("Text bei Verlegung", "text for a moved appointment"),
    "change_template_cancelled": ("Text bei Absage", "text for a cancelled appointment"),
    "replies_enabled": ("Antworten per SMS", "SMS replies"),
    "reply_line": ("Antwortzeile", "reply line"), "label": ("Bezeichnung", "label"), "prefix": ("Präfix", "prefix"),
    "revoked": ("gesperrt", "revoked"), "user": ("Benutzer", "user"), "results": ("Treffer", "results"),
    "parameters": ("Suchfelder", "search fields"), "appointment": ("Termin", "appointment"),
    "patient": ("Patient", "patient"), "via": ("über", "via"), "used": ("verbraucht", "used"),
    "quota": ("Kontingent", "quota"), "group_admin": ("Gruppenadministrator", "group admin"),
}

_VALUES = {
    True: ("ja", "yes"), False: ("nein", "no"), None: ("–", "–"),
    "active": ("aktiv", "active"), "suspended": ("ausgesetzt", "suspended"), "revoked": ("widerrufen", "revoked"),
    "vendor_admin": ("Hersteller-Administrator", "vendor admin"), "support": ("Support", "support"),
    "group_admin": ("Gruppenadministrator", "group admin"),
    "day_before": ("am Vortag", "the day before"), "hours_before": ("Stunden vorher", "hours before"),
}


@dataclass(frozen=True)
class Change:
    field: str
    before: str
    after: str


def describe(action: str, object_key: str, locale: str = "de") -> str:
    """The entry as a sentence; the action code itself when there is no sentence for it."""
    texts = _ACTIONS.get(action)
    if texts is None:
        return f"{action} {object_key}".strip()
    return texts[_index(locale)].format(object=object_key)


def changes(before: dict | None, after: dict | None, locale: str = "de") -> list[Change]:
    """Each field that differs, as before → after in words; a field only after is a value set."""
    before, after, index = before or {}, after or {}, _index(locale)
    result = []
    for name in list(dict.fromkeys([*before, *after])):
        old, new = before.get(name), after.get(name)
        if name in before and old == new:
            continue
        label = _FIELDS.get(name, (name, name))[index]
        result.append(Change(label, _value(old, index) if name in before else "", _value(new, index)))
    return result


def _value(value: Any, index: int) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(_FIELDS.get(str(item), (str(item), str(item)))[index] for item in value) or "–"
    if isinstance(value, dict):
        return ", ".join(f"{_FIELDS.get(k, (k, k))[index]} {_value(v, index)}" for k, v in value.items())
    if isinstance(value, (bool, type(None))) or (isinstance(value, str) and value in _VALUES):
        return _VALUES[value][index]
    if isinstance(value, str) and len(value) == 10:
        try:
            return date.fromisoformat(value).strftime("%d.%m.%Y")  # licence dates as people write them
        except ValueError:
            pass
    return str(value)


def _index(locale: str) -> int:
    return 1 if language(locale) == "en" else 0
