"""Reason codes and statuses of reminders, in words the practice understands."""

REASONS: dict[str, dict[str, str]] = {
    "no_licence": {
        "de": "Keine aktive SMS-Lizenz",
        "en": "No active SMS licence",
    },
    "sms_disabled": {
        "de": "SMS-Erinnerungen sind für die Praxis ausgeschaltet",
        "en": "SMS reminders are switched off for the practice",
    },
    "no_consent": {
        "de": "Keine Einwilligung des Patienten zu SMS",
        "en": "The patient has not consented to SMS",
    },
    "missing_mobile": {
        "de": "Keine Handynummer hinterlegt",
        "en": "No mobile number on file",
    },
    "invalid_mobile": {
        "de": "Handynummer ungültig",
        "en": "Invalid mobile number",
    },
    "appointment_opt_out": {
        "de": "SMS-Erinnerung für diesen Termin abgewählt",
        "en": "SMS reminder unticked for this appointment",
    },
    "too_late": {
        "de": "Zu kurzfristig: Termin erst nach dem Erinnerungszeitpunkt übertragen",
        "en": "Too late: the appointment arrived after its reminder was due",
    },
    "quota_exceeded": {
        "de": "Monatliches SMS-Kontingent ausgeschöpft",
        "en": "Monthly SMS quota used up",
    },
    "appointment_cancelled": {
        "de": "Termin abgesagt",
        "en": "Appointment cancelled",
    },
    "appointment_moved": {
        "de": "Termin verschoben",
        "en": "Appointment moved",
    },
    "consent_withdrawn": {
        "de": "Einwilligung zu SMS widerrufen",
        "en": "SMS consent withdrawn",
    },
    "patient_erased": {
        "de": "Patientendaten gelöscht",
        "en": "Patient data erased",
    },
    "notices_disabled": {
        "de": "Änderungs-SMS sind für die Praxis ausgeschaltet",
        "en": "Change notices are switched off for the practice",
    },
    "change_undone": {
        "de": "Änderung rückgängig gemacht: der Patient kennt die gültige Uhrzeit schon",
        "en": "Change undone: the patient already knows the time that holds",
    },
    "notice_too_late": {
        "de": "Zu spät für die Änderungs-SMS: der Termin hat begonnen",
        "en": "Too late for a change notice: the appointment has begun",
    },
    "notice_is_reminder": {
        "de": "Keine eigene Erinnerung: die Änderungs-SMS erinnert an die neue Uhrzeit",
        "en": "No reminder of its own: the change notice reminds of the new time",
    },
    "provider_error": {
        "de": "Fehler beim SMS-Anbieter",
        "en": "SMS provider error",
    },
}

STATUS_TEXT: dict[str, dict[str, str]] = {
    # Reminder statuses (ours).
    "planned": {"de": "Geplant", "en": "Planned"},
    "skipped": {"de": "Nicht gesendet", "en": "Skipped"},
    "cancelled": {"de": "Storniert", "en": "Cancelled"},
    "queued": {"de": "Wird gesendet", "en": "Queued"},
    "submitted": {"de": "An SMS-Anbieter übergeben", "en": "Submitted to the provider"},
    "failed": {"de": "Fehlgeschlagen", "en": "Failed"},
    # Delivery statuses (the provider's).
    "scheduled": {"de": "Beim Anbieter eingeplant", "en": "Scheduled at the provider"},
    "buffered": {"de": "Zwischengespeichert (Handy nicht erreichbar)", "en": "Buffered (phone not reachable)"},
    "sent": {"de": "Versendet", "en": "Sent"},
    "delivered": {"de": "Zugestellt", "en": "Delivered"},
    "delivery_failed": {"de": "Zustellung fehlgeschlagen", "en": "Delivery failed"},
    "expired": {"de": "Abgelaufen, nicht zugestellt", "en": "Expired, not delivered"},
}


def reason_text(code: str | None, locale: str = "de") -> str:
    """The reason in the user's language; the code itself when unknown."""
    return _text(REASONS, code, locale)


def status_text(code: str | None, locale: str = "de") -> str:
    """A reminder or delivery status in the user's language; the code when unknown."""
    return _text(STATUS_TEXT, code, locale)


def language(locale: str | None) -> str:
    """The language of the domain's texts for a locale: "en_GB" or "en-US" is English, anything else German."""
    return "en" if (locale or "de").lower().startswith("en") else "de"


def _text(table: dict[str, dict[str, str]], code: str | None, locale: str) -> str:
    texts = table.get(code or "")
    if texts is None:
        return code or ""
    return texts[language(locale)]
