"""The bases of every portal form: the input rules of domain.inputs for every field.

Each field's own validators say what a value means; these say what input is
at all (printable text, dates in range), so no form can forget them.
"""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, Form, HiddenField, TextAreaField

from ..domain.inputs import FIRST_DAY, LAST_DAY, LINE_BREAK, day_in_range, text_problem


class _CheckedInput:
    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        for field in self:
            message = input_problem(field)
            if message and not field.errors:
                field.errors = [message]
                ok = False
        return ok


def input_problem(field) -> str | None:
    """Why a field's input is refused whatever the field means, in the user's language."""
    if isinstance(field, HiddenField):
        return None  # navigation state (next, CSRF token): checked where it is used, not the user's to fix
    for raw in field.raw_data or ():
        problem = text_problem(raw, multiline=isinstance(field, TextAreaField)) if isinstance(raw, str) else None
        if problem == LINE_BREAK:
            return _l("Must be a single line.")
        if problem:
            return _l("Contains control characters.")
    if isinstance(field, DateField) and field.data and not day_in_range(field.data):
        return _l("Enter a date between %(first)s and %(last)s.", first=FIRST_DAY.strftime("%d.%m.%Y"),
                  last=LAST_DAY.strftime("%d.%m.%Y"))
    return None


class PortalForm(_CheckedInput, FlaskForm):
    """A form posted from a portal page (with its CSRF token)."""


class SearchForm(_CheckedInput, Form):
    """A search form sent with GET: no CSRF token needed."""
