"""GET /api/v1/lookup: the support lookup for the vendor's ticket system."""
from datetime import date, datetime, timedelta, timezone
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from .. import support
from ..audit import record
from ..extensions import db
from ..models import Appointment, AppointmentEvent, Reminder
from .core import current_principal, operation

# No control characters: PostgreSQL refuses NUL in text, and no search needs them.
Text = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[^\x00-\x1f\x7f]+$")]


class LookupQuery(BaseModel):
    """All given parameters must match; without any, nothing is returned."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    phone: Text | None = Field(None, description="a phone number in any format (0170…, +49…, 0049…)")
    name: Text | None = Field(None, description="words of the patient's first or last name")
    appointment: Text | None = Field(None, description="the practice program's appointment ID, or ours")
    message_id: Text | None = Field(None, description="the provider's message ID")
    practice: Text | None = Field(None, description="a practice slug")
    date_from: date | None = Field(None, alias="from", description="first day of the appointment start (Europe/Berlin)")
    date_to: date | None = Field(None, alias="to", description="last day of the appointment start (Europe/Berlin)")
    limit: Annotated[int, Field(ge=1, le=100)] = 20


class LookupCheck(BaseModel):
    check: str
    ok: bool | None
    label: str
    detail: str


class LookupEvent(BaseModel):
    at: datetime
    kind: str
    change_source: str | None
    reminder_id: int | None
    data: dict[str, Any] | None


class LookupReminder(BaseModel):
    id: int
    start_at: datetime
    status: str
    reason: str | None
    due_at: datetime | None
    submitted_at: datetime | None
    body: str | None
    recipient: str | None = Field(description="E.164")
    sender: str | None
    segments: int | None
    message_id: str | None
    error_code: str | None
    delivery_status: str | None
    delivered_at: datetime | None


class LookupPatient(BaseModel):
    id: str
    first_name: str | None
    last_name: str | None
    mobile: str | None = Field(description="E.164, or the text as typed when it is not a valid mobile number")
    mobile_problem: str | None
    sms_consent: bool


class LookupAppointment(BaseModel):
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
    timeline: list[LookupEvent]
    checklist: list[LookupCheck]
    summary: str


class LookupResult(BaseModel):
    appointments: list[LookupAppointment]
    more: bool = Field(description="true when more appointments matched than `limit`")


@operation("GET", "/lookup", summary="Support lookup: matching appointments with reminders and timeline",
           permission="read", query=LookupQuery, response=LookupResult, tag="support")
def lookup(query: LookupQuery):
    criteria = support.Criteria(
        phone=query.phone, name=query.name, appointment=query.appointment, message_id=query.message_id,
        practice=query.practice, date_from=query.date_from, date_to=query.date_to,
    )
    if not criteria.given():
        return LookupResult(appointments=[], more=False)
    found = db.session.scalars(support.search(current_principal(), criteria).limit(query.limit + 1)).unique().all()
    items = support.details(found[: query.limit])
    # Full phone numbers leave the system here: the lookup is audited like a reveal.
    record(current_principal(), "lookup.api", current_principal().user,
           after={"parameters": sorted(query.model_dump(exclude_none=True, exclude={"limit"})),
                  "results": len(items)})
    db.session.commit()
    return LookupResult(appointments=[_appointment(item) for item in items], more=len(found) > query.limit)


def _appointment(item: support.Details) -> LookupAppointment:
    appointment, patient = item.appointment, item.appointment.patient
    return LookupAppointment(
        id=appointment.id, external_id=appointment.external_id, practice=appointment.practice.slug,
        start=_with_offset(appointment), duration_minutes=appointment.duration_minutes,
        therapist=appointment.therapist, sms_reminder=appointment.sms_reminder, cancelled_at=appointment.cancelled_at,
        patient=LookupPatient(id=patient.external_id, first_name=patient.first_name, last_name=patient.last_name,
                              mobile=patient.mobile_e164 or patient.mobile_raw, mobile_problem=patient.mobile_problem,
                              sms_consent=patient.sms_consent),
        reminders=[_reminder(row) for row in item.reminders],
        timeline=[_event(event) for event in item.timeline],
        checklist=[LookupCheck(check=c.key, ok=c.ok, label=c.label, detail=c.detail) for c in item.checklist],
        summary=support.summary(item),
    )


def _with_offset(appointment: Appointment) -> datetime:
    """The start as the practice program sent it: with its own UTC offset."""
    return appointment.start_at.astimezone(timezone(timedelta(minutes=appointment.start_offset_minutes)))


def _reminder(row: Reminder) -> LookupReminder:
    return LookupReminder(
        id=row.id, start_at=row.start_at, status=row.status, reason=row.reason, due_at=row.due_at,
        submitted_at=row.submitted_at, body=row.body, recipient=row.recipient, sender=row.sender,
        segments=row.segments, message_id=row.provider_message_id, error_code=row.provider_error_code,
        delivery_status=row.delivery_status, delivered_at=row.delivered_at,
    )


def _event(event: AppointmentEvent) -> LookupEvent:
    return LookupEvent(at=event.at, kind=event.kind, change_source=event.change_source,
                       reminder_id=event.reminder_id, data=event.data)
