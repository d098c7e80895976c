"""Request and response shapes of the practice-program API."""
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from ..models import CHANGE_SOURCES
from .schemas import Moment, Strict, WholeNumber, text

EXTERNAL_ID_PATTERN = r"^[A-Za-z0-9._-]{1,64}$"
ExternalId = Annotated[str, Field(pattern=EXTERNAL_ID_PATTERN, description="the practice program's own ID")]
Text100 = text(100)
ChangeSource = Literal[CHANGE_SOURCES]  # type: ignore[valid-type]
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
    mobile_problem: str | None = Field(description="missing_mobile or invalid_mobile")
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
    status: str
    reason: str | None
    reason_text: str | None = Field(description="the reason in German")
    start_at: datetime
    due_at: datetime | None
    submitted_at: datetime | None
    body: str | None
    recipient: str | None
    delivery_status: str | None
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


class SyncIn(Strict):
    operations: Annotated[list[Any], Field(min_length=1, max_length=MAX_OPERATIONS,
                                           description="applied in order; each one on its own")]


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
    result: dict[str, Any] | None = None


class SyncOut(BaseModel):
    applied: int
    failed: int
    results: list[SyncResult]
