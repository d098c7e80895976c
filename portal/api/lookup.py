"""GET /api/v1/lookup: the support lookup for the vendor's ticket system."""
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from .. import planning, support
from ..access import Principal
from ..audit import record
from ..domain.phones import mask_phone
from ..domain.verdict import VERDICTS
from ..extensions import db
from ..models import AppointmentEvent, Reminder
from ..models.schedule import EVENT_KINDS
from .core import Problem, current_principal, operation
from .practice_schemas import ChangeSource, DeliveryStatus, MobileProblem, Reason, ReminderKind, ReminderStatus
from .schemas import Day, named_values, text

Text = text(100, min_length=1)
EventKind = named_values("EventKind", EVENT_KINDS, "what happened on the appointment's timeline")
Verdict = named_values("Verdict", VERDICTS, "the answer to the ticket: what became of the appointment's reminder")


class LookupQuery(BaseModel):
    """All given parameters must match; without any, nothing is returned."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    phone: Text | None = Field(None, description="a phone number in any format (0170…, +49…, 0049…)")
    name: Text | None = Field(None, description="words of the patient's first or last name")
    appointment: Text | None = Field(None, description="the practice program's appointment ID, or ours")
    message_id: Text | None = Field(None, description="the provider's message ID")
    practice: Text | None = Field(None, description="a practice slug")
    date_from: Day | None = Field(None, alias="from", description="first day of the appointment start (Europe/Berlin)")
    date_to: Day | None = Field(None, alias="to", description="last day of the appointment start (Europe/Berlin)")
    limit: Annotated[int, Field(ge=1, le=100)] = 20
    reveal: bool = Field(False, description="true: full phone numbers instead of masked ones; each patient "
                                           "revealed is written to the audit log (`phone.reveal`)")


class LookupCheck(BaseModel):
    check: str
    ok: bool | None
    label: str
    detail: str


class LookupEvent(BaseModel):
    at: datetime
    kind: EventKind
    change_source: ChangeSource | None
    reminder_id: int | None
    data: dict[str, Any] | None


class LookupReminder(BaseModel):
    id: int
    kind: ReminderKind
    start_at: datetime
    status: ReminderStatus
    reason: Reason | None
    due_at: datetime | None
    submitted_at: datetime | None
    body: str | None
    recipient: str | None = Field(description="masked (\"+49 170 ****567\"); E.164 with `reveal=true`")
    sender: str | None
    segments: int | None
    message_id: str | None
    error_code: str | None
    delivery_status: DeliveryStatus | None
    delivered_at: datetime | None


class LookupPatient(BaseModel):
    id: str
    first_name: str | None
    last_name: str | None
    mobile: str | None = Field(description="masked (\"+49 170 ****567\"); with `reveal=true` E.164, or the text "
                                           "as typed when it is not a valid mobile number")
    mobile_problem: MobileProblem | None
    sms_consent: bool



class LookupAppointment(BaseModel):
    verdict: Verdict = Field(description="what became of the appointment's SMS")
    sent_before_change: bool = Field(description="true when the SMS went out before the appointment was moved "
                                                 "or cancelled")
    conclusion: str = Field(description="the answer to the ticket in one sentence, in the caller's language")
    id: int
    external_id: str
    practice: str
    start: datetime
    duration_minutes: int | None
    therapist: str | None
    sms_reminder: bool
    cancelled_at: datetime | None
    patient: LookupPatient
    reminders: list[LookupReminder]
    timeline: list[LookupEvent] = Field(description="every event in order; an event's `reminder_id` names the row "
                                                    "(reminder or change notice) it is about")
    checklist: list[LookupCheck]
    summary: str


class LookupResult(BaseModel):
    appointments: list[LookupAppointment]
    more: bool = Field(description="true when more appointments matched than `limit`")


@operation("GET", "/lookup", summary="Support lookup: matching appointments with reminders and timeline",
           permission="read", query=LookupQuery, response=LookupResult, tag="support")
def lookup(query: LookupQuery):
    """The appointments matching every parameter given, latest start first, each with its reminders, timeline,
    checklist and a summary. Phone numbers are masked unless `reveal=true`. Every lookup is audited.

    :raise 403: `reveal` without the permission to see full numbers."""
    principal = current_principal()
    if query.reveal and not principal.can("reveal"):
        raise Problem(403, "reveal: you may not see full phone numbers")
    criteria = support.Criteria(
        phone=query.phone, name=query.name, appointment=query.appointment, message_id=query.message_id,
        practice=query.practice, date_from=query.date_from, date_to=query.date_to,
    )
    if not criteria.given():
        return LookupResult(appointments=[], more=False)
    wanted = query.limit + 1  # one more: whether there are more
    found = db.session.scalars(support.search(principal, criteria, first=wanted).limit(wanted)).unique().all()
    items = support.details(found[: query.limit])
    # Health data leave the system here: every lookup is audited, every revealed number as well.
    record(principal, "lookup.api", principal.user,
           after={"parameters": sorted(query.model_dump(exclude_none=True, exclude={"limit", "reveal"})),
                  "results": len(items)})
    if query.reveal:
        _record_reveals(principal, items)
    # Built before the commit, which would expire every loaded object and load each again.
    result = LookupResult(appointments=[_appointment(item, query.reveal) for item in items],
                          more=len(found) > query.limit)
    db.session.commit()
    return result


def _record_reveals(principal: Principal, items: list[support.Details]) -> None:
    """One `phone.reveal` entry per patient whose number is shown, as on the portal's reveal."""
    revealed = {}
    for item in items:
        revealed.setdefault(item.appointment.patient.id, item.appointment)
    for appointment in revealed.values():
        record(principal, "phone.reveal", appointment.patient,
               after={"appointment": appointment.id, "patient": appointment.patient.external_id, "via": "api"})


def _phone(number: str | None, reveal: bool) -> str | None:
    """Masked in the list, unless the caller asked for an audited reveal."""
    return (number if reveal else mask_phone(number)) or None


def _appointment(item: support.Details, reveal: bool) -> LookupAppointment:
    appointment, patient = item.appointment, item.appointment.patient
    return LookupAppointment(
        verdict=item.verdict.verdict, sent_before_change=item.verdict.sent_before_change,
        conclusion=item.verdict.conclusion, id=appointment.id, external_id=appointment.external_id, practice=appointment.practice.slug,
        start=planning.appointment_start(appointment), duration_minutes=appointment.duration_minutes,
        therapist=appointment.therapist, sms_reminder=appointment.sms_reminder, cancelled_at=appointment.cancelled_at,
        patient=LookupPatient(id=patient.external_id, first_name=patient.first_name, last_name=patient.last_name,
                              mobile=_phone(patient.mobile_e164 or patient.mobile_raw, reveal),
                              mobile_problem=patient.mobile_problem, sms_consent=patient.sms_consent),
        reminders=[_reminder(row, reveal) for row in item.reminders],
        timeline=[_event(event) for event in item.timeline],
        checklist=[LookupCheck(check=c.key, ok=c.ok, label=c.label, detail=c.detail) for c in item.checklist],
        summary=support.summary(item),
    )


def _reminder(row: Reminder, reveal: bool) -> LookupReminder:
    return LookupReminder(
        id=row.id, kind=row.kind, start_at=row.start_at, status=row.status, reason=row.reason, due_at=row.due_at,
        submitted_at=row.submitted_at, body=row.body, recipient=_phone(row.recipient, reveal), sender=row.sender,
        segments=row.segments, message_id=row.provider_message_id, error_code=row.provider_error_code,
        delivery_status=row.delivery_status, delivered_at=row.delivered_at,
    )


def _event(event: AppointmentEvent) -> LookupEvent:
    return LookupEvent(at=event.at, kind=event.kind, change_source=event.change_source,
                       reminder_id=event.reminder_id, data=event.data)
