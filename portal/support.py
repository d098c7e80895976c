"""The support lookup, shared by the portal pages and GET /api/v1/lookup.

Search appointments by phone number (any format), patient name, appointment
ID, provider message ID, practice and date range, always within the caller's
scope; for one appointment: its timeline, the support checklist, the text
that would be sent now and a plain-text summary for a ticket.
"""
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import Select, func, literal_column, or_, select, text
from sqlalchemy.orm import joinedload, selectinload

from . import planning
from .access import Principal, practice_condition, scoped
from .domain import notices
from .domain.phones import mask_phone, normalize_phone_query
from .domain.provider_reasons import explain_delivery, explain_submission_error
from .domain.reasons import reason_text, status_text
from .domain.search_keys import name_query, phone_key
from .domain.verdict import WENT_OUT, Context, Verdict, decide, decide_reminder
from .domain.verdict import sending_ahead as verdict_ahead
from .domain.verdict import state as verdict_state
from .extensions import db
from .i18n import domain_text, per_language
from .models import Appointment, AppointmentEvent, DeliveryReport, Patient, Practice, Reminder, utcnow
from .models.base import one_of
from .practices import licence_in_force, local_zone
from .sending import quota_usage, submission

# The practice program counts as offline when it has not called for this long.
ONLINE_WITHIN = timedelta(hours=24)
SEARCH_ZONE = ZoneInfo("Europe/Berlin")
# A name borne by more patients in scope than this is searched from the newest appointments, if a
# page of its appointments (WALK_PAGE, or the fewer a caller reads first) is among the newest
# WALK_WINDOW (`_named`).
NAME_CANDIDATES = 500
WALK_WINDOW, WALK_PAGE = 10_000, 50
# The lookup page counts matches up to this many; beyond, it asks to narrow the search.
COUNTED_MATCHES = 1000


@dataclass
class Criteria:
    phone: str | None = None
    name: str | None = None
    appointment: str | None = None
    message_id: str | None = None
    practice: str | None = None
    date_from: date | None = None
    date_to: date | None = None

    def given(self) -> bool:
        return any(value not in (None, "") for value in vars(self).values())


@dataclass
class Check:
    key: str
    ok: bool | None  # None: for information only
    label: str
    detail: str = ""


@dataclass
class Details:
    """Everything the appointment page and the API show about one appointment."""

    appointment: Appointment
    reminders: list[Reminder]
    timeline: list[AppointmentEvent]
    checklist: list[Check] = field(default_factory=list)
    verdict: Verdict | None = None
    # The latest delivery report's reason and error code per reminder: the lists read the same (latest_reports).
    reports: dict[int, tuple[str | None, str | None]] = field(default_factory=dict)

    @property
    def kinds(self) -> dict[int, str]:
        """What each row is (reminder or change notice), for the timeline's lines."""
        return {row.id: row.kind for row in self.reminders}


# --- search -----------------------------------------------------------------------------

def search(principal: Principal, criteria: Criteria, first: int | None = None) -> Select:
    """Matching appointments within the caller's scope, newest start first (a statement to page; a name is
    looked up among the patients first, see `_named`). `first`: how many the caller reads first, if fewer
    than a page of the portal (`WALK_PAGE`)."""
    named, walk = _named(principal, criteria, min(first or WALK_PAGE, WALK_PAGE))
    statement = (
        scoped(principal, Appointment)
        .join(Appointment.patient)
        # the licences too: every result's checklist asks whether its practice's licence is in force
        .options(joinedload(Appointment.patient),
                 joinedload(Appointment.practice).options(joinedload(Practice.group), selectinload(Practice.licences)))
        .order_by(_newest_first(walk), Appointment.id.desc())
    )
    for condition in _conditions(criteria) + named:
        statement = statement.where(condition)
    return statement


def _newest_first(walk: bool):
    if walk or db.session.get_bind().dialect.name != "postgresql":
        return Appointment.start_at.desc()
    # An expression, not the column: PostgreSQL must not walk ix_appointments_start for a name
    # `_named` found rare, guessing its appointments spread evenly over time when all may lie far back.
    return (Appointment.start_at + literal_column("interval '0'")).desc()


def _named(principal: Principal, criteria: Criteria, first: int) -> tuple[list, bool]:
    """The name's conditions on the appointments, and whether to walk the newest appointments first.

    Each word starts a word of the stored key (folded the same way), in any order. Which plan is
    fast depends on how many patients bear the name and when their appointments are, and the
    database cannot tell from `LIKE '% word%'`: for a name few bear, or one whose bearers had no
    appointments lately ("Anna Müller" in the bench: 3,572 patients, none among the newest
    600,000 appointments), it must start from the patients (the trigram index); for a common
    surname from the newest appointments (`ix_appointments_start`), where a page's matches come
    within a few hundred rows. Finding the patients, up to `NAME_CANDIDATES` (then the search reads
    their appointments), and for more a look for the `first` matches among the newest `WALK_WINDOW`
    appointments, decides.
    """
    if not (criteria.name and criteria.name.strip()):
        return [], True
    words = name_query(criteria.name) or [criteria.name.strip()]
    likes = [Patient.name_key.like(f"% {_escape_like(word)}%", escape="\\") for word in words]
    practice = [Practice.slug == criteria.practice] if criteria.practice else []
    patients = scoped(principal, Patient).with_only_columns(Patient.id).where(*likes)
    if practice:
        patients = patients.where(Patient.practice_id.in_(select(Practice.id).where(*practice)))
    bearers = list(db.session.scalars(patients.limit(NAME_CANDIDATES + 1)))
    if len(bearers) <= NAME_CANDIDATES:
        # Their appointments by patient: the search need not look the name up in the trigram index again.
        return [one_of(Appointment.patient_id, bearers)], False
    return likes, _soon_met(principal, likes, practice, first)


def _soon_met(principal: Principal, likes: list, practice: list, first: int) -> bool:
    """Whether the newest `WALK_WINDOW` appointments hold the `first` matches of the name's in scope
    (the API's 21 are found in fewer rows than the portal's page of 50).

    The newest of all, then those in scope: the walk itself reads the index in that order, and
    the appointments of a group or practice may all lie far back (only a count leaves this query).
    """
    newest = (select(Appointment.patient_id, Appointment.practice_id)
              .order_by(Appointment.start_at.desc(), Appointment.id.desc()).limit(WALK_WINDOW).subquery())
    met = (select(newest.c.patient_id).join(Patient, Patient.id == newest.c.patient_id)
           .where(practice_condition(principal, newest.c.practice_id), *likes).limit(first))
    if practice:
        met = met.where(newest.c.practice_id.in_(select(Practice.id).where(*practice)))
    if db.session.get_bind().dialect.name == "postgresql":
        # A walk of a few thousand rows; parallel workers took longer to start (100 ms and more at
        # 5 million appointments) than the walk itself. For this transaction only.
        db.session.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))
    return db.session.scalar(select(func.count()).select_from(met.subquery())) == first


def _conditions(criteria: Criteria) -> list:
    conditions = []
    if criteria.phone and criteria.phone.strip():
        # Stored keys: any format, and numbers kept as typed (invalid) by their digits, typos folded.
        e164, key = normalize_phone_query(criteria.phone), phone_key(criteria.phone)
        conditions.append(or_(Patient.mobile_e164 == e164, Patient.mobile_key == key) if e164
                          else Patient.mobile_key == (key or criteria.phone.strip()))
    if criteria.appointment and criteria.appointment.strip():
        text = criteria.appointment.strip().lstrip("#")
        by_id = [Appointment.id == int(text)] if text.isascii() and text.isdigit() and len(text) < 12 else []
        conditions.append(or_(Appointment.external_id == text, *by_id))
    if criteria.message_id and criteria.message_id.strip():
        conditions.append(Appointment.id.in_(
            select(Reminder.appointment_id).where(Reminder.provider_message_id == criteria.message_id.strip())
        ))
    if criteria.practice:
        conditions.append(Appointment.practice_id.in_(select(Practice.id).where(Practice.slug == criteria.practice)))
    if criteria.date_from:
        conditions.append(Appointment.start_at >= _day_start(criteria.date_from))
    if criteria.date_to:
        conditions.append(Appointment.start_at < _day_start(criteria.date_to + timedelta(days=1)))
    return conditions


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=SEARCH_ZONE).astimezone(timezone.utc)


def reminders_by_appointment(appointments: list[Appointment]) -> dict[int, list[Reminder]]:
    """The reminders of several appointments in one query, newest start first."""
    result: dict[int, list[Reminder]] = {appointment.id: [] for appointment in appointments}
    if result:
        rows = db.session.scalars(
            select(Reminder).where(Reminder.appointment_id.in_(result)).order_by(Reminder.start_at.desc())
        ).all()
        for row in rows:
            result[row.appointment_id].append(row)
    return result


def timelines(appointments: list[Appointment]) -> dict[int, list[AppointmentEvent]]:
    """The timeline events of several appointments in one query, in the order they happened."""
    result: dict[int, list[AppointmentEvent]] = {appointment.id: [] for appointment in appointments}
    if result:
        rows = db.session.scalars(
            select(AppointmentEvent).where(AppointmentEvent.appointment_id.in_(result))
            .order_by(AppointmentEvent.at, AppointmentEvent.id)
        ).all()
        for row in rows:
            result[row.appointment_id].append(row)
    return result


def details(appointments: list[Appointment], now: datetime | None = None) -> list[Details]:
    """Reminders, timeline and checklist of each appointment, in a fixed number of queries."""
    now = now or utcnow()
    reminders, events = reminders_by_appointment(appointments), timelines(appointments)
    practices: dict[int, planning.PracticeFacts] = {}
    result = []
    reports = latest_reports([row.id for rows in reminders.values() for row in rows])
    for appointment in appointments:
        item = Details(appointment, reminders[appointment.id], events[appointment.id], reports=reports)
        if appointment.practice_id not in practices:
            practices[appointment.practice_id] = planning.practice_facts(appointment.practice, now)
        item.checklist = checklist(appointment, item.reminders, now, practices[appointment.practice_id])
        item.verdict = decide(appointment, item.reminders, verdict_context(appointment, reports))
        result.append(item)
    return result


def appointment_details(principal: Principal, appointment_id: int) -> Details | None:
    """One appointment within the caller's scope, with everything support needs."""
    appointment = db.session.scalars(
        scoped(principal, Appointment).where(Appointment.id == appointment_id)
        .options(joinedload(Appointment.patient),
                 joinedload(Appointment.practice).options(joinedload(Practice.group), selectinload(Practice.licences)))
    ).first()
    return details([appointment])[0] if appointment else None


# --- the verdict ---------------------------------------------------------------------------

def verdict_context(appointment: Appointment, reports: dict[int, tuple[str | None, str | None]]) -> Context:
    """What `domain.verdict` needs of an appointment besides its reminders, for the current reader."""
    patient = appointment.patient
    return Context(zone=local_zone(appointment.practice), locale=_locale(),
                   mobile=patient.mobile_e164 or patient.mobile_raw,
                   consent_withdrawn_at=patient.consent_withdrawn_at, reports=reports)


def latest_reports(reminder_ids: list[int]) -> dict[int, tuple[str | None, str | None]]:
    """The latest delivery report's reason and error code of each reminder, in one query."""
    if not reminder_ids:
        return {}
    rows = db.session.execute(
        select(DeliveryReport.reminder_id, DeliveryReport.status_reason, DeliveryReport.status_error_code)
        .where(DeliveryReport.reminder_id.in_(reminder_ids)).order_by(DeliveryReport.status_at, DeliveryReport.id)
    ).all()
    return {row.reminder_id: (row.status_reason, row.status_error_code) for row in rows}


def appointment_verdicts(appointments: list[Appointment], reminders: dict[int, list[Reminder]]) -> dict[int, Verdict]:
    """The verdict of each appointment of a result list (its reminders loaded by the caller)."""
    reports = latest_reports([row.id for rows in reminders.values() for row in rows])
    return {appointment.id: decide(appointment, reminders[appointment.id], verdict_context(appointment, reports))
            for appointment in appointments}


def reminder_verdicts(reminders: list[Reminder]) -> dict[int, Verdict]:
    """The verdict of each reminder row of a list, e.g. a practice's reminders."""
    reports = latest_reports([row.id for row in reminders])
    return {row.id: decide_reminder(row.appointment, row, verdict_context(row.appointment, reports))
            for row in reminders}


def row_verdicts(item: Details) -> dict[int, Verdict]:
    """The verdict of each reminder row of one appointment."""
    context = verdict_context(item.appointment, item.reports)
    return {row.id: decide_reminder(item.appointment, row, context) for row in item.reminders}


# --- data quality ---------------------------------------------------------------------------

def patients_needing_a_number(principal: Principal, practice: Practice) -> Select:
    """Patients of `practice` who consented to SMS but have no usable mobile number (a statement to page).

    The same rule as planning's (`planning.facts_for`): without a number in E.164 a
    consenting patient gets no reminder; erased patients have nothing left to correct.
    """
    return (
        scoped(principal, Patient)
        .where(Patient.practice_id == practice.id, Patient.sms_consent.is_(True), Patient.erased_at.is_(None),
               Patient.mobile_e164.is_(None))
        .order_by(Patient.last_name, Patient.first_name, Patient.id)
    )


def patients_without_salutation(principal: Principal, group) -> int:
    """How many of the group's patients a text with {anrede} would greet without one."""
    return db.session.scalar(
        scoped(principal, Patient).with_only_columns(func.count(Patient.id))
        .where(Patient.practice_id.in_(select(Practice.id).where(Practice.group_id == group.id)),
               Patient.erased_at.is_(None), or_(Patient.salutation.is_(None), Patient.salutation == ""))
    ) or 0


# --- the checklist ------------------------------------------------------------------------

def checklist(appointment: Appointment, reminders: list[Reminder], now: datetime,
              practice_facts: planning.PracticeFacts | None = None) -> list[Check]:
    """The answers to support's questions, each with a detail.

    The answers come from the facts planning and sending decide on, so the
    checklist cannot disagree with why a reminder was (not) sent.
    """
    practice, patient, words = appointment.practice, appointment.patient, _checklist_words()
    facts = planning.facts_for(appointment, now, practice_facts)
    licence = licence_in_force(practice, now)
    licence_detail = words["licence_period"] % {
        "status": licence_status_text(licence.status), "start": licence.valid_from.strftime("%d.%m.%Y"),
        "end": licence.valid_until.strftime("%d.%m.%Y") if licence.valid_until else words["open_end"],
    } if licence else words["no_licence"]
    mobile_ok = facts.mobile_problem is None
    mobile_detail = mask_phone(patient.mobile_e164) if mobile_ok else " ".join(
        filter(None, [reason_text(facts.mobile_problem, _locale()), domain_text(patient.mobile_problem_detail)]))
    seen = practice.last_seen_at
    # A refused submission is no SMS sent (the verdict says so too); change notices are counted apart.
    sent = sum(1 for row in reminders if row.start_at == appointment.start_at and verdict_state(row) in WENT_OUT
               and row.kind == notices.REMINDER)
    notices_sent = sum(1 for row in reminders if row.kind in notices.NOTICE_KINDS and verdict_state(row) in WENT_OUT)
    checks = [
        Check("licence", facts.licence_active, words["licence"], licence_detail),
        Check("sms_enabled", facts.sms_enabled, words["sms_enabled"]),
        Check("consent", facts.sms_consent and not facts.patient_erased, *_consent_words(patient, words)),
        Check("mobile", mobile_ok, words["mobile"], mobile_detail),
        Check("appointment_tick", facts.sms_reminder, words["appointment_tick"]),
        Check("not_cancelled", not facts.appointment_cancelled,
              *((words["cancelled"], _local(appointment.cancelled_at, practice)) if appointment.cancelled_at
                else (words["still_on"], ""))),
        Check("program_seen", seen is not None and now - seen <= ONLINE_WITHIN, words["program_seen"],
              _local(seen, practice) if seen else words["never"]),
        Check("sent_count", sent <= 1, words["sent_count"], str(sent)),
    ]
    if any(row.kind in notices.NOTICE_KINDS for row in reminders):
        checks.append(Check("notices_sent", None, words["notices_sent"], str(notices_sent)))
    used, quota = quota_usage(practice, now) if licence and licence.monthly_quota is not None else (0, None)
    if quota is not None:
        checks.append(Check("quota", used < quota, words["quota"], f"{used} / {quota}"))
    return checks


@per_language
def _checklist_words() -> dict[str, str]:
    return {
        "licence": _("Licence active"), "licence_period": _("%(status)s, %(start)s to %(end)s"),
        "open_end": _("open end"), "no_licence": _("no licence granted"),
        "sms_enabled": _("SMS switched on for the practice"), "mobile": _("Valid mobile number"),
        "appointment_tick": _("SMS reminder ticked for the appointment"),
        "cancelled": _("Appointment cancelled"), "still_on": _("Appointment still on"),
        "program_seen": _("Practice program last seen"), "never": _("never"),
        "sent_count": _("SMS sent for this start time"), "notices_sent": _("Change notices sent"),
        "quota": _("Monthly quota"),
        "no_consent": _("No consent"), "erased": _("patient data erased"), "consented": _("Patient consented to SMS"),
        "withdrawn": _("Consent to SMS withdrawn"), "never_consented": _("Patient never consented to SMS"),
    }


def _consent_words(patient: Patient, words: dict[str, str]) -> tuple[str, str]:
    """The consent line as a statement of what is the case, never a double negative."""
    if patient.erased_at is not None:
        return words["no_consent"], words["erased"]
    if patient.sms_consent:
        return words["consented"], ""
    if patient.consent_withdrawn_at is not None:
        return words["withdrawn"], _local(patient.consent_withdrawn_at, patient.practice)
    return words["never_consented"], ""


# --- the text now and the text sent ---------------------------------------------------------

def sending_ahead(item: Details, now: datetime | None = None) -> bool:
    """Whether an SMS for this appointment may still be sent: only then does "would be sent now" mean anything."""
    appointment = item.appointment
    return (appointment.cancelled_at is None and appointment.patient.erased_at is None
            and appointment.start_at > (now or utcnow())
            and verdict_ahead(planning.current_reminder(appointment, item.reminders)))


def text_now(appointment: Appointment, reminders: list[Reminder], now: datetime | None = None):
    """(the SMS that would be composed now, the reason it would not be sent or None)."""
    now = now or utcnow()
    reminder = planning.current_reminder(appointment, reminders)
    if reminder is None:
        # Not stored: a stand-in so that the one composing rule can render it.
        reminder = Reminder(appointment=appointment, practice=appointment.practice, start_at=appointment.start_at,
                            status="planned", kind=notices.REMINDER)
    blocked = submission.check_before_send(reminder, now)
    if blocked == "consent_withdrawn" and appointment.patient.consent_withdrawn_at is None:
        blocked = "no_consent"  # never consented: there is nothing to withdraw
    return submission.compose(reminder, now), blocked


def text_sent(reminders: list[Reminder]) -> Reminder | None:
    """The latest reminder that went out (its stored text), if any; a refused one did not."""
    return next((row for row in reminders if verdict_state(row) in WENT_OUT), None)


# --- the ticket summary --------------------------------------------------------------------

def summary(item: Details, now: datetime | None = None) -> str:
    """A plain-text summary to paste into a support ticket: the answer first (phone numbers masked).

    The patient is named by the practice program's ID only; the SMS text is quoted as it was sent.
    """
    appointment, practice, patient = item.appointment, item.appointment.practice, item.appointment.patient
    verdict, sent, words = item.verdict, text_sent(item.reminders), _summary_words()
    lines = [verdict.conclusion if verdict else ""]
    if verdict and verdict.explanation:
        lines.append(words["next_step"] % {"step": verdict.explanation.next_step})
    lines += [
        "",
        words["practice"] % {"name": practice.name, "slug": practice.slug},
        words["appointment"] % {"start": _local(appointment.start_at, practice), "external": appointment.external_id},
        words["patient"] % {"id": patient.external_id,
                            "mobile": mask_phone(patient.mobile_e164 or patient.mobile_raw) or "–"},
        words["text_sent"] % {"text": _quoted(sent)},
        words["delivery"] % {"delivery": _delivery_line(sent, practice)},
        "",
        words["checklist"],
    ]
    lines += [f"  [{'x' if check.ok else ' ' if check.ok is False else '-'}] {check.label}"
              + (f": {check.detail}" if check.detail else "") for check in item.checklist]
    lines += ["", words["reminders"]]
    verdicts = row_verdicts(item)
    lines += [f"  {_local(row.start_at, practice)}{_kind_suffix(row.kind)}: {verdicts[row.id].conclusion}"
              for row in item.reminders] or ["  –"]
    lines += ["", words["timeline"]]
    lines += [f"  {_local(event.at, practice)} {event_line(event, item.kinds)}" for event in item.timeline] or ["  –"]
    return "\n".join(lines)


@per_language
def _summary_words() -> dict[str, str]:
    return {
        "next_step": _("Next step: %(step)s"), "practice": _("Practice: %(name)s (%(slug)s)"),
        "appointment": _("Appointment: %(start)s, ID in the practice program %(external)s"),
        "patient": _("Patient: ID %(id)s in the practice program, mobile %(mobile)s"),
        "text_sent": _("Text sent: %(text)s"), "delivery": _("Delivery: %(delivery)s"),
        "checklist": _("Checklist:"), "reminders": _("Reminders:"), "timeline": _("Timeline:"),
    }


def _quoted(sent: Reminder | None) -> str:
    if sent is None:
        return "–"
    return f"\"{sent.body}\"" if sent.body else _("deleted after the retention period")


def _delivery_line(sent: Reminder | None, practice: Practice) -> str:
    """Submission and delivery of the SMS that went out, with the provider's message ID."""
    if sent is None:
        return "–"
    parts = [_("submitted %(at)s, message ID %(id)s", at=_local(sent.submitted_at or sent.submit_started_at, practice),
               id=sent.provider_message_id or "–")]
    if sent.delivery_status:
        parts.append(f"{status_text(sent.delivery_status, _locale())} {_local(sent.delivery_status_at, practice)}")
    return ", ".join(parts)


def kind_text(kind: str | None) -> str:
    """Which SMS a row is, in the reader's language."""
    words = _row_kinds()
    return words.get(kind or "", words["reminder"])


@per_language
def _row_kinds() -> dict[str, str]:
    return {"moved_notice": _("change notice: appointment moved"),
            "cancelled_notice": _("change notice: appointment cancelled"), "reminder": _("reminder")}


def _kind_suffix(kind: str | None) -> str:
    return f" ({kind_text(kind)})" if kind in notices.NOTICE_KINDS else ""


def event_line(event: AppointmentEvent, kinds: dict[int, str] | None = None) -> str:
    """One timeline entry in words (without its time); `kinds` names the change notices among the rows."""
    kind = (kinds or {}).get(event.reminder_id)
    if kind not in notices.NOTICE_KINDS:
        return _event_words(event)
    # planning's words for a notice: not "reminder planned"
    words = {"planned": _("planned"), "skipped": _("not sent"), "reminder_cancelled": _("taken back")}
    return f"{kind_text(kind)}: {_event_words(event, words.get(event.kind))}"


@per_language
def _kind_words() -> dict[str, str]:
    """The timeline's words for each kind of entry: a lookup shows dozens of entries, and translating the
    whole table again for each was a third of its time."""
    return {
        "created": _("synced (created)"), "restored": _("synced again (restored)"), "moved": _("moved"),
        "tick_changed": _("SMS tick changed"), "patient_changed": _("patient changed"),
        "cancelled": _("cancelled"), "planned": _("reminder planned"), "skipped": _("reminder skipped"),
        "reminder_cancelled": _("reminder cancelled"), "claimed": _("claimed for sending"),
        "submitted": _("submitted to the provider"), "failed": _("sending failed"),
        "outcome_unknown": _("no answer from the provider; may have been sent; not resent"),
        "send_retry": _("sending will be retried"), "delivery_report": _("delivery report"),
        "submission_confirmed": _("submission confirmed by the provider"), "replanned": _("re-planned"),
        "outcome_check": _("asked the provider about the unknown outcome"),
        "outcome_resent": _("the provider never got the SMS: sent again"),
        "reply": _("the patient replied"), "reply_answered": _("the opt-out was confirmed by SMS"),
    }


def _event_words(event: AppointmentEvent, first: str | None = None) -> str:
    data, locale = event.data or {}, _locale()
    words = _kind_words()
    parts = [first or words.get(event.kind, event.kind)]
    if event.change_source:
        parts.append(_("via %(source)s", source=source_text(event.change_source)))
    if event.kind == "moved":
        parts.append(_("from %(old)s to %(new)s", old=_iso_local(data.get("from"), event), new=_iso_local(data.get("to"), event)))
    if data.get("reason") and event.kind != "delivery_report":
        parts.append(f"({reason_text(data['reason'], locale)})")
    if data.get("due_at") and event.kind == "planned":
        parts.append(_("due %(at)s", at=_iso_local(data["due_at"], event)))
    if event.kind == "delivery_report":
        parts.append(status_text(data.get("status"), locale))
        if data.get("status_at"):
            parts.append(_iso_local(data["status_at"], event))
        if data.get("reason") or data.get("status") in ("delivery_failed", "expired"):
            # The provider's English reason ("unknown subscriber") in the reader's words.
            parts.append(f"({explain_delivery(data.get('reason'), data.get('error_code'), locale).meaning})")
    if data.get("error_code") or data.get("code"):
        parts.append(_("error code %(code)s", code=data.get("error_code") or data.get("code")))
    if event.kind == "failed" and data.get("code"):
        parts.append(f"({explain_submission_error(data['code'], data.get('text'), locale).meaning})")
    if data.get("message_id") and event.kind in ("submitted", "submission_confirmed"):
        parts.append(_("message ID %(id)s", id=data["message_id"]))
    if event.kind == "reply":
        parts.append(f"„{data['text']}“" if data.get("text") is not None else _("(text deleted)"))
        parts.append(f"({reply_kind_text(data.get('reply'))})")
        if data.get("ambiguous"):
            parts.append(_("– the number also got reminders of another practice: not applied"))
    if event.kind == "reply_answered" and data.get("error"):
        parts.append(_("(not sent: %(error)s)", error=data["error"]))
    if event.kind == "outcome_check" and data.get("result") == "unreachable":
        parts.append(_("(provider unreachable; asked again %(at)s)", at=_iso_local(data.get("next_check_at"), event)))
    elif event.kind == "outcome_check":
        parts.append(_("(the provider never got it, not even when sent again; ask the practice to call the patient)"))
    return " ".join(str(part) for part in parts)


def reply_kind_text(code: str | None) -> str:
    """What a patient's reply means, in the reader's words (the feed's kinds)."""
    return _reply_kinds().get(code, code or "")


@per_language
def _reply_kinds() -> dict[str, str]:
    return {
        "confirmed": _("appointment confirmed"), "cancellation_requested": _("asks to cancel the appointment"),
        "opted_out": _("no more SMS reminders (STOP)"), "unreadable_reply": _("to read"),
    }


def licence_status_text(code: str) -> str:
    return _licence_statuses().get(code, code)


@per_language
def _licence_statuses() -> dict[str, str]:
    return {"active": _("active"), "suspended": _("suspended"), "revoked": _("revoked")}


def source_text(code: str) -> str:
    return _change_sources().get(code, code)


@per_language
def _change_sources() -> dict[str, str]:
    return {
        "calendar_drag": _("drag and drop in the calendar"), "clipboard_drag": _("drag and drop from the clipboard"),
        "dialog": _("appointment dialog in the prescription view"), "import": _("import"),
    }




def _local(moment: datetime | None, practice: Practice) -> str:
    return moment.astimezone(local_zone(practice)).strftime("%d.%m.%Y %H:%M") if moment else "–"


def _iso_local(text: str | None, event: AppointmentEvent) -> str:
    if not text:
        return "–"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return _local(moment, event.appointment.practice)


def _locale() -> str:
    return str(get_locale() or "de")

