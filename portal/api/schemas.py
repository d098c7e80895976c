"""Request and response shapes of the administration API.

They are the validation and the OpenAPI document at once: unknown fields
are refused, types are strict, strings are bounded.
"""
import re
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic import Strict as StrictParsing
from pydantic_core import PydanticCustomError
from typing_extensions import TypeAliasType

from ..domain.inputs import CONTROLS, LINE_PATTERN, OUT_OF_RANGE, TEXT_PATTERN, YEAR_PATTERN, day_in_range, text_problem
from ..domain.messages import PLACEHOLDERS
from ..domain.settings import MAX_REPLY_LINE_LENGTH, TIMEZONES
from ..models import LICENCE_STATUSES

def _line(value: str) -> str:
    if problem := text_problem(value):
        raise PydanticCustomError("text", problem)
    return value


def _multiline(value: str) -> str:
    if problem := text_problem(value, multiline=True):
        raise PydanticCustomError("text", problem)
    return value


def text(max_length: int, min_length: int = 0, multiline: bool = False, **schema: Any) -> Any:
    """The string type of every text field the API takes: bounded, and printable (see domain.inputs)."""
    schema.setdefault("pattern", TEXT_PATTERN if multiline else LINE_PATTERN)
    return Annotated[str, Field(min_length=min_length, max_length=max_length, json_schema_extra=schema),
                     AfterValidator(_multiline if multiline else _line)]


def _in_range(value: date) -> date:
    if not day_in_range(value):
        raise PydanticCustomError("out_of_range", OUT_OF_RANGE)
    return value



def _whole(value: Any) -> Any:
    """JSON has one number type: 24.0 is the whole number 24, as JSON Schema's "integer" says."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


WholeNumber = Annotated[int, BeforeValidator(_whole)]


def _written_as(pattern: str, shape: str):
    """pydantic also reads "0" or "1700000000" as a date or time (seconds since 1970); the document says ISO 8601."""
    def check(value: Any) -> Any:
        if isinstance(value, date) or (isinstance(value, str) and re.match(pattern, value)):
            return value
        raise ValueError(f"must be {shape}")
    return BeforeValidator(check)


# Strict(False): after the check, pydantic parses the text itself (strict mode takes no text for a date).
IsoDate = Annotated[date, StrictParsing(False), _written_as(r"\d{4}-\d\d-\d\d$", "a date as YYYY-MM-DD")]
IsoDateTime = Annotated[AwareDatetime, StrictParsing(False),
                        _written_as(r"\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d", "ISO 8601 with a UTC offset")]
# Dates and times bounded where they are parsed: no overflow in due-time or day arithmetic.
Day = Annotated[IsoDate, AfterValidator(_in_range), Field(json_schema_extra={"pattern": YEAR_PATTERN})]
Moment = Annotated[IsoDateTime, AfterValidator(_in_range), Field(json_schema_extra={"pattern": YEAR_PATTERN})]
Slug = Annotated[str, Field(pattern=r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$", description="lowercase letters, digits and inner dashes", max_length=64)]
Name = text(200, min_length=1)
# The domain rules (settings.setting_problem) check these and name the
# problem (the unknown placeholder, say); the schema only documents them.
# Named (TypeAliasType), it is one schema of its own in the document, not a copy per field.
TimeZone = TypeAliasType("TimeZone", Annotated[str, Field(max_length=64, json_schema_extra={"enum": list(TIMEZONES)},
                                                          description="a canonical IANA time zone (zone.tab, or UTC)")])
Sender = Annotated[str, Field(max_length=17, json_schema_extra={
    "pattern": r"^(?=[A-Za-z0-9 ]*[A-Za-z])[A-Za-z0-9](?:[A-Za-z0-9 ]{0,9}[A-Za-z0-9])?$|^\+?[0-9]{1,17}$",
    "description": "1 to 11 letters, digits and inner spaces (at least one letter), or a phone number",
})]
Template = text(1000, min_length=1, multiline=True, **{
    "pattern": r"^(?:[^{}" + CONTROLS + r"]|\{\{|\}\}|\{(?:" + "|".join(PLACEHOLDERS) + r")\})*$",
    "description": "text with the placeholders " + ", ".join("{%s}" % name for name in PLACEHOLDERS)
    + "; {{ and }} for literal braces",
})
ReplyLine = text(MAX_REPLY_LINE_LENGTH, min_length=1, pattern=r"^[^{}" + CONTROLS + r"]*$",
                 description="appended to the reminder as typed; no braces")
Clock = Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$", examples=["18:00"])]
KeyId = Annotated[int, Field(ge=1, le=2**31 - 1, description="an API key's `id`")]


def named_values(name: str, values: tuple[str, ...], description: str) -> TypeAliasType:
    """A fixed list of values, named: one schema in the document, one enum in a generated client."""
    return TypeAliasType(name, Annotated[Literal[values], Field(description=description)])  # type: ignore[valid-type]


LicenceStatus = named_values("LicenceStatus", LICENCE_STATUSES, "active: SMS may be sent within the validity dates")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class GroupIn(Strict):
    slug: Slug
    name: Name


class GroupOut(BaseModel):
    slug: str
    name: str
    practices: list[str]
    created_at: datetime


class GroupList(BaseModel):
    groups: list[GroupOut]


class PracticeIn(Strict):
    slug: Slug
    name: Name
    group: Slug
    timezone: TimeZone | None = None
    phone: text(40, min_length=1) | None = None


class LicenceIn(Strict):
    status: LicenceStatus
    valid_from: Day
    valid_until: Day | None = None
    monthly_quota: Annotated[WholeNumber, Field(ge=0, le=10_000_000)] | None = None


class LicenceOut(BaseModel):
    status: LicenceStatus
    valid_from: date
    valid_until: date | None
    monthly_quota: int | None
    active: bool
    created_at: datetime
    created_by: str | None


class LicenceHistory(BaseModel):
    current: LicenceOut | None
    history: list[LicenceOut]


class PracticeOut(BaseModel):
    slug: str
    name: str
    group: str
    timezone: str
    phone: str | None
    sms_enabled: bool
    licence: LicenceOut | None
    last_seen_at: datetime | None
    created_at: datetime


class PracticeList(BaseModel):
    practices: list[PracticeOut]


class GroupSettingsIn(Strict):
    """Set a value to override it; set it to null to inherit again."""

    send_policy: Literal["day_before", "hours_before"] | None = None
    send_time: Clock | None = None
    hours_before: Annotated[WholeNumber, Field(ge=1, le=168)] | None = None
    quiet_start: Clock | None = None
    quiet_end: Clock | None = None
    min_lead_minutes: Annotated[WholeNumber, Field(ge=0, le=1440)] | None = None
    template: Template | None = None
    sender: Sender | None = None
    timezone: TimeZone | None = None
    change_notice: bool | None = Field(None, description="send a notice when an appointment whose reminder went out is moved or cancelled")
    change_template_moved: Template | None = None
    change_template_cancelled: Template | None = None
    replies_enabled: bool | None = Field(None, description="send from the reply number and end with the reply line")
    reply_line: ReplyLine | None = None


class PracticeSettingsIn(GroupSettingsIn):
    sms_enabled: bool | None = None


class SettingValue(BaseModel):
    value: Any = Field(description="the effective value")
    source: Literal["practice", "group", "default"]
    own: Any = Field(description="the value set at this level, or null when inherited")


class SettingsOut(BaseModel):
    settings: dict[str, SettingValue]


class ApiKeyIn(Strict):
    label: text(100, min_length=1) | None = None


class ApiKeyOut(BaseModel):
    id: int
    prefix: str
    label: str | None
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="the key itself; shown only in this response")


class ApiKeyList(BaseModel):
    api_keys: list[ApiKeyOut]


class AuditOut(BaseModel):
    at: datetime
    actor: str
    action: str
    object_type: str
    object_key: str
    before: dict | None
    after: dict | None


class AuditPage(BaseModel):
    entries: list[AuditOut]
    next_before: int | None = Field(description="pass as `before` for the next page")


class AuditQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    before: Annotated[int, Field(ge=1, le=2**31 - 1)] | None = None
    limit: Annotated[int, Field(ge=1, le=200)] = 50
