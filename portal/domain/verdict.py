"""The answer to a support ticket: what became of an appointment's SMS, decided in one place.

`decide` looks at an appointment and its reminder rows and returns the
verdict (planned, not_sent, sending, submitted, delivered, delivery_failed,
refused, outcome_unknown), whether the SMS went out before the appointment was
moved or cancelled, and one sentence saying so in the reader's language. The
appointment page, the reminders list, the ticket summary and the lookup API
all show this, so they cannot disagree.

Which reminder the answer is about: the one for the current start time,
unless an earlier one went out and the current one did not; then the patient
holds an SMS with the old time, and that is what support must know first.
A change notice (`domain.notices`) adds a clause: sent, pending, or not sent and why.
"""
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from . import notices
from .notices import OUTCOME_UNKNOWN
from .phones import mask_phone
from .provider_reasons import Explanation, explain_delivery, explain_submission_error
from .reasons import language, reason_text

VERDICTS = ("planned", "not_sent", "sending", "submitted", "delivered", "delivery_failed", "refused",
            "outcome_unknown")
# The provider may hold the SMS: it went out, as far as support can tell.
WENT_OUT = ("submitted", "delivered", "delivery_failed", "outcome_unknown")
RETRIES_EXHAUSTED = "retries_exhausted"
# After these no SMS goes out for that start time, whatever the practice corrects.
FINAL_REASONS = ("too_late", "provider_error", "appointment_moved", "appointment_cancelled", "patient_erased")

VERDICT_TEXT = {
    "planned": {"de": "Geplant", "en": "Planned"},
    "not_sent": {"de": "Nicht gesendet", "en": "Not sent"},
    "sending": {"de": "Wird gesendet", "en": "Sending"},
    "submitted": {"de": "Übergeben, Zustellung offen", "en": "Submitted, delivery pending"},
    "delivered": {"de": "Zugestellt", "en": "Delivered"},
    "delivery_failed": {"de": "Zustellung fehlgeschlagen", "en": "Delivery failed"},
    "refused": {"de": "Vom SMS-Anbieter abgelehnt", "en": "Refused by the provider"},
    "outcome_unknown": {"de": "Ausgang unklar", "en": "Outcome unknown"},
}

_SENTENCES = {
    "de": {
        "planned": "SMS für {when} an {phone} geplant",
        "planned_now": "SMS an {phone} ist fällig und wird in Kürze gesendet",
        "sending": "SMS an {phone} wird gerade gesendet",
        "submitted": "SMS {when} an {phone} an den SMS-Anbieter übergeben; noch keine Zustellbestätigung",
        "delivered": "SMS {when} an {phone} zugestellt",
        "delivery_failed": "SMS {when} an {phone} übergeben, aber nicht zugestellt: {meaning}",
        "refused": "SMS an {phone} vom SMS-Anbieter abgelehnt (Fehlercode {code}: {meaning}); nicht gesendet",
        "outcome_unknown": "Unklar, ob die SMS an {phone} {when} gesendet wurde: keine Antwort des SMS-Anbieters; "
                           "nicht erneut gesendet",
        "not_sent": "Keine SMS gesendet: {reason}",
        "not_planned": "Keine SMS gesendet: für diesen Termin ist keine Erinnerung geplant",
        "when": "am {date} um {time}",
        "planned_when": "{date} um {time}",
        "moved": "; der Termin wurde danach verschoben",
        "cancelled": "; der Termin wurde danach abgesagt",
        "moved_cancelled": "; der Termin wurde danach verschoben und abgesagt",
        "new_time": "; zur neuen Uhrzeit: {sentence}",
        "no_consent": "der Patient hat nie in SMS eingewilligt",
        "consent_withdrawn": "der Patient hat die Einwilligung zu SMS widerrufen",
        "consent_withdrawn_at": "der Patient hat die Einwilligung zu SMS am {date} widerrufen",
        "notice": "; Änderungs-SMS ({what}): {sentence}",
        "moved_notice": "Termin verlegt",
        "cancelled_notice": "Termin abgesagt",
        "notice_is_reminder": "; sie ist zugleich die Erinnerung an die neue Uhrzeit",
    },
    "en": {
        "planned": "SMS to {phone} planned for {when}",
        "planned_now": "SMS to {phone} is due and will be sent shortly",
        "sending": "SMS to {phone} is being sent",
        "submitted": "SMS to {phone} handed to the provider {when}; no delivery confirmation yet",
        "delivered": "SMS delivered to {phone} {when}",
        "delivery_failed": "SMS to {phone} handed to the provider {when} but not delivered: {meaning}",
        "refused": "SMS to {phone} refused by the provider (error code {code}: {meaning}); not sent",
        "outcome_unknown": "Unclear whether the SMS to {phone} {when} was sent: no answer from the provider; "
                           "not resent",
        "not_sent": "No SMS sent: {reason}",
        "not_planned": "No SMS sent: no reminder is planned for this appointment",
        "when": "on {date} at {time}",
        "planned_when": "{date} at {time}",
        "moved": "; the appointment was moved afterwards",
        "cancelled": "; the appointment was cancelled afterwards",
        "moved_cancelled": "; the appointment was moved and cancelled afterwards",
        "new_time": "; for the new time: {sentence}",
        "no_consent": "the patient never consented to SMS",
        "consent_withdrawn": "the patient withdrew consent to SMS",
        "consent_withdrawn_at": "the patient withdrew consent to SMS on {date}",
        "notice": "; change notice ({what}): {sentence}",
        "moved_notice": "appointment moved",
        "cancelled_notice": "appointment cancelled",
        "notice_is_reminder": "; it is also the reminder for the new time",
    },
}


@dataclass(frozen=True)
class Context:
    """What the verdict needs besides the rows: the reader, the practice's zone, the patient."""

    zone: ZoneInfo
    locale: str = "de"
    mobile: str | None = None  # the patient's number now (E.164 or as typed), for what has not gone out
    consent_withdrawn_at: datetime | None = None
    # reminder id -> (statusReason, statusErrorCode) of its latest delivery report
    reports: dict[int, tuple[str | None, str | None]] | None = None

    @property
    def language(self) -> str:
        return language(self.locale)


@dataclass(frozen=True)
class Verdict:
    verdict: str
    sent_before_change: bool
    conclusion: str
    reason: str | None = None  # for not_sent: why (never consented and withdrawn told apart)
    explanation: Explanation | None = None  # for the provider's answers: meaning and next step


def verdict_text(code: str, locale: str = "de") -> str:
    """The verdict as a short label in the reader's language."""
    texts = VERDICT_TEXT.get(code)
    return texts[language(locale)] if texts else code


def state(row) -> str:
    """The verdict for one reminder row taken alone."""
    if row.status == "planned":
        return "planned"
    if row.status == "queued":
        return "sending"
    if row.status == "failed":
        if row.provider_error_code == OUTCOME_UNKNOWN:
            return "outcome_unknown"
        # Never accepted after all retries: nothing reached the provider.
        return "not_sent" if row.provider_error_code == RETRIES_EXHAUSTED else "refused"
    if row.status == "submitted":
        if row.delivery_status == "delivered":
            return "delivered"
        return "delivery_failed" if row.delivery_status in ("delivery_failed", "expired") else "submitted"
    return "not_sent"


def sending_ahead(row) -> bool:
    """Whether an SMS for this start time may still go out: none went out and nothing final stops it.

    `row` is the reminder of the current start time, or None when none was planned yet.
    """
    if row is None:
        return True
    verdict = state(row)
    return verdict == "planned" or (verdict == "not_sent" and row.reason not in FINAL_REASONS)


def decide(appointment, reminders: list, context: Context) -> Verdict:
    """The verdict for an appointment (`start_at`, `cancelled_at`) and its reminder rows (notices among them)."""
    answer = _decide_reminders(appointment, [row for row in reminders if kind(row) == notices.REMINDER], context)
    if not any(kind(row) in notices.NOTICE_KINDS for row in reminders):
        return answer
    return _with_conclusion(answer, answer.conclusion.rstrip(".") + _notice_clause(appointment, reminders, context)
                            + ".")


def kind(row) -> str:
    """What a row is: a reminder, or a change notice (rows from before notices are reminders)."""
    return getattr(row, "kind", None) or notices.REMINDER


def _notice_clause(appointment, reminders: list, context: Context) -> str:
    """The latest change notice in words: sent, pending, or not sent and why."""
    words = _SENTENCES[context.language]
    notice = max((row for row in reminders if kind(row) in notices.NOTICE_KINDS), key=lambda row: row.id)
    sentence = _lowered(decide_reminder(appointment, notice, context).conclusion.rstrip("."))
    clause = words["notice"].format(what=words[notice.kind], sentence=sentence)
    is_reminder = not any(kind(row) == notices.REMINDER and row.start_at == notice.start_at
                          and row.reason != notices.NOTICE_IS_REMINDER for row in reminders)
    if notice.kind == notices.MOVED and is_reminder and state(notice) not in ("not_sent", "refused"):
        clause += words["notice_is_reminder"]
    return clause


def _lowered(sentence: str) -> str:
    return sentence if sentence[1:2].isupper() else sentence[:1].lower() + sentence[1:]  # "SMS" stays


def _decide_reminders(appointment, reminders: list, context: Context) -> Verdict:
    current = next((row for row in reminders if row.start_at == appointment.start_at), None)
    earlier = sorted((row for row in reminders if row is not current and state(row) in WENT_OUT),
                     key=_sent_at, reverse=True)
    if earlier and (current is None or state(current) not in WENT_OUT):
        answer = decide_reminder(appointment, earlier[0], context)
        if current is not None and appointment.cancelled_at is None:
            follow = _lowered(decide_reminder(appointment, current, context).conclusion.rstrip("."))
            tail = _SENTENCES[context.language]["new_time"].format(sentence=follow)
            return _with_conclusion(answer, answer.conclusion.rstrip(".") + tail + ".")
        return answer
    if current is None:
        current = max(reminders, key=lambda row: row.start_at, default=None)
    if current is None:
        return Verdict("not_sent", False, _SENTENCES[context.language]["not_planned"] + ".")
    return decide_reminder(appointment, current, context)


def decide_reminder(appointment, row, context: Context) -> Verdict:
    """The verdict for one reminder row of `appointment` (a line of the reminders list)."""
    words, verdict = _SENTENCES[context.language], state(row)
    sent_at = _sent_at(row)
    phone = mask_phone(row.recipient or context.mobile) or "–"
    values = {"phone": phone, "when": _when(words["when"], sent_at, context), "code": row.provider_error_code}
    reason, explanation = None, None
    if verdict == "planned":
        key = "planned" if row.due_at is not None else "planned_now"
        values["when"] = _when(words["planned_when"], row.due_at, context)
    elif verdict == "delivered":
        key = verdict
        values["when"] = _when(words["when"], row.delivered_at or row.delivery_status_at or sent_at, context)
    elif verdict == "delivery_failed":
        key, explanation = verdict, _explain_delivery(row, context)
    elif verdict in ("refused", "outcome_unknown"):
        key = verdict
        explanation = explain_submission_error(row.provider_error_code, row.provider_error_text, context.language)
    elif verdict == "not_sent":
        key, reason = verdict, _not_sent_reason(row, context)
        if row.provider_error_code == RETRIES_EXHAUSTED:
            explanation = explain_submission_error(RETRIES_EXHAUSTED, row.provider_error_text, context.language)
        values["reason"] = explanation.meaning if explanation else _reason_words(reason, context)
    else:
        key = verdict
    if explanation is not None:
        values["meaning"] = explanation.meaning
    # A notice is itself the news of the change.
    change = _change(appointment, row) if verdict in WENT_OUT and kind(row) == notices.REMINDER else None
    # A missing time leaves no double space behind.
    sentence = " ".join(words[key].format(**values).split()) + (words[change] if change else "") + "."
    return Verdict(verdict, change is not None, sentence, reason, explanation)


def _not_sent_reason(row, context: Context) -> str | None:
    # "No consent" on a patient who once consented is a withdrawal, whenever it was recorded.
    if row.reason == "no_consent" and context.consent_withdrawn_at is not None:
        return "consent_withdrawn"
    return row.reason


def _reason_words(reason: str | None, context: Context) -> str:
    words = _SENTENCES[context.language]
    if reason == "no_consent":
        return words["no_consent"]
    if reason == "consent_withdrawn":
        if context.consent_withdrawn_at is None:
            return words["consent_withdrawn"]
        return words["consent_withdrawn_at"].format(date=_local(context.consent_withdrawn_at, context).strftime("%d.%m.%Y"))
    return reason_text(reason, context.language)


def _change(appointment, row) -> str | None:
    """Which change came after the SMS went out: moved, cancelled or both."""
    # Nothing is sent for a cancelled or moved appointment (planning makes that final at once),
    # so an SMS that went out for it went out before the change.
    moved = row.start_at != appointment.start_at
    cancelled = appointment.cancelled_at is not None
    if moved and cancelled:
        return "moved_cancelled"
    return "moved" if moved else "cancelled" if cancelled else None


def _explain_delivery(row, context: Context) -> Explanation:
    """The latest report's reason; without one (or purged), what the delivery status itself says."""
    reason, code = (context.reports or {}).get(row.id, (None, None))
    fallback = "expired" if row.delivery_status == "expired" else "generic delivery failure"
    return explain_delivery(reason or fallback, code, context.language)


def _sent_at(row) -> datetime | None:
    return row.submitted_at or row.submit_started_at


def _with_conclusion(verdict: Verdict, conclusion: str) -> Verdict:
    return Verdict(verdict.verdict, verdict.sent_before_change, conclusion, verdict.reason, verdict.explanation)


def _local(moment: datetime, context: Context) -> datetime:
    return moment.astimezone(context.zone)


def _when(pattern: str, moment: datetime | None, context: Context) -> str:
    if moment is None:
        return ""
    local = _local(moment, context)
    return pattern.format(date=local.strftime("%d.%m.%Y"), time=local.strftime("%H:%M"))
