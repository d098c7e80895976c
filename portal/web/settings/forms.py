"""The settings dialog: each setting with its own value or "inherit"; the reminders list's filter."""
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, NumberRange, Optional, ValidationError

from ...domain.settings import INHERITED
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
}
POLICIES = {"day_before": _l("The day before at a fixed time"), "hours_before": _l("A number of hours before")}
SOURCES = {"default": _l("system default"), "group": _l("practice group"), "practice": _l("practice")}


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

    send_policy_inherit = BooleanField(_l("inherit"))
    send_time_inherit = BooleanField(_l("inherit"))
    hours_before_inherit = BooleanField(_l("inherit"))
    quiet_start_inherit = BooleanField(_l("inherit"))
    quiet_end_inherit = BooleanField(_l("inherit"))
    min_lead_minutes_inherit = BooleanField(_l("inherit"))
    sender_inherit = BooleanField(_l("inherit"))
    template_inherit = BooleanField(_l("inherit"))
    timezone_inherit = BooleanField(_l("inherit"))

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
            result[name] = value.strip() if isinstance(value, str) and name != "template" else value
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
