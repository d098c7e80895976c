from flask_babel import lazy_gettext as _l
from wtforms import DateField, SelectField, StringField
from wtforms.validators import Length, Optional

from ...support import Criteria
from ..forms import SearchForm


class LookupForm(SearchForm):
    """The search form; sent with GET, so it needs no CSRF token."""

    phone = StringField(_l("Phone number"), validators=[Optional(), Length(max=40)])
    name = StringField(_l("Patient name"), validators=[Optional(), Length(max=100)])
    appointment = StringField(_l("Appointment ID"), validators=[Optional(), Length(max=64)])
    message_id = StringField(_l("Provider message ID"), validators=[Optional(), Length(max=64)])
    practice = SelectField(_l("Practice"), choices=[], validate_choice=False, validators=[Optional(), Length(max=64)])
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])

    def criteria(self) -> Criteria:
        return Criteria(
            phone=self.phone.data, name=self.name.data, appointment=self.appointment.data,
            message_id=self.message_id.data, practice=self.practice.data or None,
            date_from=self.date_from.data, date_to=self.date_to.data,
        )


class AuditFilterForm(SearchForm):
    action = StringField(_l("Action"), validators=[Optional(), Length(max=64)])
