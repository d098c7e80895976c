"""The settings dialog: each setting with its own value or "inherit"; the reminders list's filter."""
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, NumberRange, Optional, ValidationError

from ...domain.settings import INHERITED, MAX_REPLY_LINE_LENGTH, TEXT_SETTINGS
from ...reminder_list import ReminderFilter
from ..forms import PortalForm, SearchForm
from ..common import choices

LABELS = {
    "send_policy": _l("Send policy"),
    "send_time": _l("Send time (the day before)"),
    "hours_before": _l("Hours before the appointment"),
    "quiet_start": _l("Quiet hours from"),
    "quiet_end": _l("Quiet hours until"),
    "min_lead_minutes": _l("Minimum lead time (minutes)"),
    "sender": _l("Sender name"),
    "template": _l("Reminder text"),
    "timezone": _l("Time zone"),
    "change_notice": _l("Send a notice when an appointment is moved or cancelled after its reminder"),
    "change_template_moved": _l("Text for a moved appointment"),
    "change_template_cancelled": _l("Text for a cancelled appointment"),
    "replies_enabled": _l("Patients can answer (JA/NEIN/STOP)"),
    "reply_line": _l("Reply line at the end of the reminder"),
}
POLICIES = {"day_before": _l("The day before at a fixed time"), "hours_before": _l("A number of hours before")}
# A select, not a checkbox: an unticked checkbox is not submitted, so "off" could not be told from "not sent".
SWITCH = choices([(True, _l("yes")), (False, _l("no"))])
SOURCES = {"default": _l("system default"), "group": _l("practice group"), "practice": _l("practice")}


def switch_value(value) -> bool | None:
    """The select's "True"/"False" (or the stored bool) as a bool; anything else is no choice."""
    return {"True": True, "False": False, True: True, False: False}.get(value)


class SettingsForm(PortalForm):
    send_policy = SelectField(LABELS["send_policy"], choices=choices(POLICIES.items()), validate_choice=False)
    send_time = StringField(LABELS["send_time"], validators=[Optional(), Length(max=5)])
    hours_before = IntegerField(LABELS["hours_before"], validators=[Optional(), NumberRange(min=1, max=168)])
    quiet_start = StringField(LABELS["quiet_start"], validators=[Optional(), Length(max=5)])
    quiet_end = StringField(LABELS["quiet_end"], validators=[Optional(), Length(max=5)])
    min_lead_minutes = IntegerField(LABELS["min_lead_minutes"], validators=[Optional(), NumberRange(min=0, max=1440)])
    sender = StringField(LABELS["sender"], validators=[Optional(), Length(max=17)])
    template = TextAreaField(LABELS["template"], validators=[Optional(), Length(max=1000)])
    timezone = StringField(LABELS["timezone"], validators=[Optional(), Length(max=64)])
    change_notice = SelectField(LABELS["change_notice"], choices=SWITCH, coerce=switch_value, validate_choice=False)
    change_template_moved = TextAreaField(LABELS["change_template_moved"], validators=[Optional(), Length(max=1000)])
    change_template_cancelled = TextAreaField(LABELS["change_template_cancelled"], validators=[Optional(), Length(max=1000)])
    replies_enabled = SelectField(LABELS["replies_enabled"], choices=SWITCH, coerce=switch_value, validate_choice=False)
    reply_line = StringField(LABELS["reply_line"], validators=[Optional(), Length(max=MAX_REPLY_LINE_LENGTH)])

    send_policy_inherit = BooleanField(_l("inherit"))
    send_time_inherit = BooleanField(_l("inherit"))
    hours_before_inherit = BooleanField(_l("inherit"))
    quiet_start_inherit = BooleanField(_l("inherit"))
    quiet_end_inherit = BooleanField(_l("inherit"))
    min_lead_minutes_inherit = BooleanField(_l("inherit"))
    sender_inherit = BooleanField(_l("inherit"))
    template_inherit = BooleanField(_l("inherit"))
    timezone_inherit = BooleanField(_l("inherit"))
    change_notice_inherit = BooleanField(_l("inherit"))
    change_template_moved_inherit = BooleanField(_l("inherit"))
    change_template_cancelled_inherit = BooleanField(_l("inherit"))
    replies_enabled_inherit = BooleanField(_l("inherit"))
    reply_line_inherit = BooleanField(_l("inherit"))

    def fill(self, own: dict, effective: dict) -> None:
        """Show the own value where set, else the inherited one with "inherit" ticked."""
        for name in INHERITED:
            getattr(self, name).data = own[name] if own[name] is not None else effective[name].value
            getattr(self, f"{name}_inherit").data = own[name] is None

    def changes(self) -> dict:
        """The value of each setting as submitted: None where "inherit" is ticked."""
        result = {}
        for name in INHERITED:
            if getattr(self, f"{name}_inherit").data:
                result[name] = None
                continue
            value = getattr(self, name).data
            # Texts keep their spaces and line breaks as typed.
            result[name] = value.strip() if isinstance(value, str) and name not in TEXT_SETTINGS else value
        return result

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        for name in INHERITED:
            field = getattr(self, name)
            if not getattr(self, f"{name}_inherit").data and field.data in (None, "") and not field.errors:
                field.errors = list(field.errors) + [_l("Enter a value or choose inherit.")]
                ok = False
        return ok


class PracticeSettingsForm(SettingsForm):
    sms_enabled = BooleanField(_l("Send SMS reminders for this practice"))

    def fill(self, own: dict, effective: dict, sms_enabled: bool = False) -> None:
        super().fill(own, effective)
        self.sms_enabled.data = sms_enabled

    def changes(self) -> dict:
        return {**super().changes(), "sms_enabled": bool(self.sms_enabled.data)}





class ReminderFilterForm(SearchForm):
    """The filter above a practice's reminders; sent with GET, so it needs no CSRF token."""

    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])
    patient = StringField(_l("Patient"), validators=[Optional(), Length(max=100)])
    status = SelectField(_l("Status"), choices=[], validators=[Optional()])

    # Days out of range are refused by the form base (domain.inputs), as on every portal form.
    def validate_date_to(self, field):
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_l("The end of the period must not be before its start."))

    def chosen(self) -> ReminderFilter:
        return ReminderFilter(date_from=self.date_from.data, date_to=self.date_to.data,
                              patient=self.patient.data or None, status=self.status.data or None)
