"""Request and response shapes of the practice-program API."""
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, TypeAdapter

from ..domain.phones import INVALID, MISSING
from ..domain.reasons import REASONS
from ..models import CHANGE_SOURCES, DELIVERY_STATUSES, REMINDER_KINDS, REMINDER_STATUSES
from .schemas import Moment, Strict, WholeNumber, named_values, text

EXTERNAL_ID_PATTERN = r"^[A-Za-z0-9._-]{1,64}$"
ExternalId = Annotated[str, Field(pattern=EXTERNAL_ID_PATTERN, description="the practice program's own ID")]
Text100 = text(100)
ChangeSource = named_values("ChangeSource", CHANGE_SOURCES, "how the change was made in the practice program")
ReminderStatus = named_values("ReminderStatus", REMINDER_STATUSES, "where the reminder stands")
ReminderKind = named_values("ReminderKind", REMINDER_KINDS,
                            "which SMS: the reminder, or a notice that the appointment was moved or cancelled")
Reason = named_values("Reason", tuple(REASONS), "why a reminder was skipped, cancelled or failed")
DeliveryStatus = named_values("DeliveryStatus", DELIVERY_STATUSES,
                              "the provider's latest delivery report; null until the first one")
MobileProblem = named_values("MobileProblem", (MISSING, INVALID), "why no SMS can go to this patient's mobile")
Revision = Annotated[WholeNumber, Field(ge=0, le=2**31 - 1, description="refused with 409 when lower than the stored one")]
MAX_OPERATIONS = 1000


class ApiWarning(BaseModel):
    field: str
    code: str = Field(description="a reason code, e.g. invalid_mobile")
    message: str


class PatientIn(Strict):
    first_name: Text100
    last_name: Text100
    salutation: text(40) | None = None
    mobile: text(64) | None = Field(None, examples=["0170 1234567"])
    sms_consent: bool
    revision: Revision | None = None


class PatientOut(BaseModel):
    id: str
    first_name: str | None
    last_name: str | None
    salutation: str | None
    mobile: str | None = Field(description="E.164, null when missing or invalid")
    mobile_as_typed: str | None
    mobile_problem: MobileProblem | None
    mobile_problem_detail: str | None
    sms_consent: bool
    revision: int
    erased: bool
    created: bool = False
    warnings: list[ApiWarning] = []


class AppointmentIn(Strict):
    patient: ExternalId
    start: Moment = Field(description="ISO 8601 with UTC offset", examples=["2026-11-25T10:00:00+01:00"])
    duration_minutes: Annotated[WholeNumber, Field(ge=1, le=1440)] | None = None
    therapist: Text100 | None = None
    sms_reminder: bool = True
    change_source: ChangeSource | None = None
    revision: Revision | None = None


class CancelIn(Strict):
    change_source: ChangeSource | None = None


class ReminderOut(BaseModel):
    kind: ReminderKind = Field(description="moved_notice when the notice of a move is also the reminder "
                                           "for the new time")
    status: ReminderStatus
    reason: Reason | None
    reason_text: str | None = Field(description="the reason in German")
    start_at: datetime
    due_at: datetime | None
    submitted_at: datetime | None
    body: str | None
    recipient: str | None
    delivery_status: DeliveryStatus | None
    delivered_at: datetime | None


class AppointmentOut(BaseModel):
    id: str
    patient: str
    start: datetime
    duration_minutes: int | None
    therapist: str | None
    sms_reminder: bool
    cancelled: bool
    cancelled_at: datetime | None
    revision: int
    created: bool = False
    reminder: ReminderOut | None
    warnings: list[ApiWarning] = []


class SyncOperation(Strict):
    op: Literal["put_patient", "delete_patient", "put_appointment", "delete_appointment"]
    id: ExternalId
    data: dict[str, Any] | None = None


class PutPatient(Strict):
    """PUT /patients/{id} as one operation."""

    op: Literal["put_patient"]
    id: ExternalId
    data: PatientIn


class DeletePatient(Strict):
    """DELETE /patients/{id} as one operation; it takes no data."""

    op: Literal["delete_patient"]
    id: ExternalId


class PutAppointment(Strict):
    """PUT /appointments/{id} as one operation."""

    op: Literal["put_appointment"]
    id: ExternalId
    data: AppointmentIn


class DeleteAppointment(Strict):
    """DELETE /appointments/{id} as one operation."""

    op: Literal["delete_appointment"]
    id: ExternalId
    data: CancelIn | None = None


class DocumentedAs:
    """Annotation: the document shows `documented`, while validation keeps the annotated type."""

    def __init__(self, documented: Any):
        self.adapter = TypeAdapter(documented)

    def __get_pydantic_json_schema__(self, core_schema, handler):
        return handler(self.adapter.core_schema)


TypedOperation = Annotated[PutPatient | DeletePatient | PutAppointment | DeleteAppointment, Field(discriminator="op")]
OPERATIONS_DESCRIPTION = (
    "applied in order, each one on its own: the server checks each operation by itself, so an invalid one "
    "(an unknown `op`, a bad `id`, invalid `data`) gets its own result with status 422 and the others still apply"
)


class SyncIn(Strict):
    operations: Annotated[list[Any], Field(min_length=1, max_length=MAX_OPERATIONS, description=OPERATIONS_DESCRIPTION),
                          DocumentedAs(Annotated[list[TypedOperation], Field(min_length=1, max_length=MAX_OPERATIONS)])]


class FieldError(BaseModel):
    field: str
    message: str


class SyncResult(BaseModel):
    index: int
    op: str | None
    id: str | None
    status: int = Field(description="the HTTP status the single endpoint would have answered")
    detail: str | None = None
    errors: list[FieldError] = []
    warnings: list[ApiWarning] = []
    result: PatientOut | AppointmentOut | None = Field(
        None, description="for a put: the patient or appointment, as the single endpoint answers it")


class SyncOut(BaseModel):
    applied: int
    failed: int
    results: list[SyncResult]
