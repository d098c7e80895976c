from datetime import date

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, EmailField, IntegerField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp, ValidationError

from ...models import ROLES
from ..forms import PortalForm
from ..common import choices, role_names

SLUG = Regexp(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$", message=_l("Lowercase letters, digits and inner dashes."))


class GroupForm(PortalForm):
    slug = StringField(_l("Short name (slug)"), validators=[DataRequired(), Length(max=64), SLUG])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])


class PracticeForm(PortalForm):
    group = SelectField(_l("Practice group"), validators=[DataRequired()])
    slug = StringField(_l("Short name (slug)"), validators=[DataRequired(), Length(max=64), SLUG])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=40)])


LICENCE_ACTIONS = {
    "grant": _l("Grant"),
    "extend": _l("Extend"),
    "suspend": _l("Suspend"),
    "revoke": _l("Revoke"),
}


class LicenceForm(PortalForm):
    """Grant a new licence, or extend, suspend or revoke the current one."""

    action = SelectField(_l("Action"), choices=choices(LICENCE_ACTIONS.items()))
    valid_from = DateField(_l("Valid from"), validators=[Optional()])
    valid_until = DateField(_l("Valid until"), validators=[Optional()])
    monthly_quota = IntegerField(_l("Monthly SMS quota"), validators=[Optional(), NumberRange(min=0, max=10_000_000)])

    def __init__(self, current=None, **kwargs):
        super().__init__(**kwargs)
        self.current = current

    def validate_action(self, field):
        if field.data != "grant" and self.current is None:
            raise ValidationError(_l("There is no licence yet: grant one first."))

    def validate_valid_until(self, field):
        start = self.valid_from.data if self.action.data == "grant" else (self.current.valid_from if self.current else None)
        if self.action.data == "extend" and field.data is None:
            raise ValidationError(_l("Give the new end of the validity."))
        if field.data and start and field.data < start:
            raise ValidationError(_l("The validity must not end before it starts."))

    def licence_values(self) -> dict:
        """status, validity and quota of the licence row this action adds."""
        action, current = self.action.data, self.current
        if action == "grant":
            return {"status": "active", "valid_from": self.valid_from.data or date.today(),
                    "valid_until": self.valid_until.data, "monthly_quota": self.monthly_quota.data}
        values = {"status": current.status, "valid_from": current.valid_from,
                  "valid_until": current.valid_until, "monthly_quota": current.monthly_quota}
        if action == "extend":
            values.update(status="active", valid_until=self.valid_until.data)
            if self.monthly_quota.data is not None:
                values["monthly_quota"] = self.monthly_quota.data
        else:
            values["status"] = "suspended" if action == "suspend" else "revoked"
        return values


class ApiKeyForm(PortalForm):
    label = StringField(_l("Label"), validators=[Optional(), Length(max=100)])


def _role_choices():
    return choices((role, role_names()[role]) for role in ROLES)


class VendorRoleConfirmation:
    """The vendor administrator sees and changes every tenant: giving that role takes a tick of its own."""

    confirm_vendor = BooleanField(_l("Yes, this user shall see and change all practice groups and practices "
                                     "(vendor administrator)."))
    current_role: str | None = None

    def validate_confirm_vendor(self, field):
        if self.role.data == "vendor_admin" and self.current_role != "vendor_admin" and not field.data:
            raise ValidationError(_l("Confirm that this user shall become a vendor administrator."))


class UserForm(VendorRoleConfirmation, PortalForm):
    email = EmailField(_l("E-mail address"), validators=[DataRequired(), Length(max=254)])
    # No role is chosen for the admin: a slip of the mouse must not make a vendor administrator.
    role = SelectField(_l("Role"), choices=[], validators=[DataRequired(message=_l("Choose a role."))])
    group = SelectField(_l("Practice group (group administrators only)"), choices=[])
    password = PasswordField(_l("Initial password"), validators=[
        DataRequired(), Length(min=10, max=200, message=_l("At least 10 characters."))])

    def __init__(self, groups, **kwargs):
        super().__init__(**kwargs)
        self.role.choices = choices([("", _l("Choose a role"))]) + _role_choices()
        self.group.choices = choices([("", "–")] + [(group.slug, group.name) for group in groups])

    def validate_group(self, field):
        if self.role.data == "group_admin" and not field.data:
            raise ValidationError(_l("A group administrator needs a practice group."))


class UserChangeForm(VendorRoleConfirmation, PortalForm):
    role = SelectField(_l("Role"), choices=[])
    group = SelectField(_l("Practice group"), choices=[])
    active = BooleanField(_l("Active"))

    def __init__(self, groups, current_role: str | None = None, **kwargs):
        super().__init__(**kwargs)
        self.current_role = current_role
        self.role.choices = _role_choices()
        self.group.choices = choices([("", "–")] + [(group.slug, group.name) for group in groups])

    validate_group = UserForm.validate_group


class TokenForm(PortalForm):
    label = StringField(_l("Label"), validators=[Optional(), Length(max=100)])
