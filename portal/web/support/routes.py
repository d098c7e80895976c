"""The lookup pages: search, one appointment, reveal, re-plan, and the audit log."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, load_only
from wtforms.widgets import TextInput

from ... import administration, planning, support
from ...access import get_or_404, get_practice_or_404, group_condition, scoped
from ...audit import record
from ...extensions import db
from ...models import AuditEntry, Patient, Practice
from ..common import choices, paginate, paginate_capped, permission_required, principal
from .forms import AuditFilterForm, LookupForm

bp = Blueprint("support", __name__, url_prefix="/support")
CHOOSER_LIMIT = 200  # practices listed to choose from; beyond, the short name is typed


@bp.get("/")
@permission_required("read")
def lookup():
    form = LookupForm(request.args)
    _practice_chooser(form)
    page, verdicts = None, {}
    if form.validate() and form.criteria().given():
        page = paginate_capped(support.search(principal(), form.criteria()), support.COUNTED_MATCHES)
        verdicts = support.appointment_verdicts(page.items, support.reminders_by_appointment(page.items))
    return render_template("support/lookup.html", form=form, page=page, verdicts=verdicts)


def _practice_chooser(form: LookupForm) -> None:
    """A list of the caller's practices while it is short; for a vendor's thousands, their short name
    typed (rendering the options was half the page's time; support.search keeps to the caller's scope)."""
    listed = scoped(principal(), Practice).options(load_only(Practice.slug, Practice.name))
    if db.session.scalar(select(func.count()).select_from(listed.subquery())) > CHOOSER_LIMIT:
        form.practice.widget = TextInput()
        form.practice.description = _("Short name; empty: all practices")
        return
    practices = db.session.scalars(listed.order_by(Practice.name)).all()
    form.practice.choices = choices([("", _("All practices"))] + [(p.slug, p.name) for p in practices])


@bp.get("/appointments/<int:appointment_id>")
@permission_required("read")
def appointment(appointment_id: int):
    return _appointment_page(appointment_id, revealed=False)


@bp.post("/appointments/<int:appointment_id>/reveal")
@permission_required("reveal")
def reveal(appointment_id: int):
    """Show the full phone number once; the reveal is written to the audit log."""
    item = support.appointment_details(principal(), appointment_id) or abort(404)
    record(principal(), "phone.reveal", item.appointment.patient,
           after={"appointment": item.appointment.id, "patient": item.appointment.patient.external_id})
    db.session.commit()
    return _appointment_page(appointment_id, revealed=True)


def _appointment_page(appointment_id: int, revealed: bool):
    item = support.appointment_details(principal(), appointment_id) or abort(404)
    body_now, blocked = support.text_now(item.appointment, item.reminders)
    return render_template(
        "support/appointment.html", item=item, revealed=revealed, composed=body_now, blocked=blocked,
        ahead=support.sending_ahead(item), verdicts=support.row_verdicts(item),
        sent=support.text_sent(item.reminders), summary=support.summary(item), event_line=support.event_line,
        current=planning.current_reminder(item.appointment, item.reminders),
    )


@bp.post("/patients/<int:patient_id>/replan")
@permission_required("replan")
def replan_patient(patient_id: int):
    patient = get_or_404(principal(), Patient, Patient.id == patient_id)
    administration.replan_patient(patient)
    record(principal(), "patient.replan", patient)
    db.session.commit()
    flash(_("The reminders of this patient have been planned again."), "success")
    return redirect(_back() or url_for(".lookup"))


@bp.post("/practices/<slug>/replan")
@permission_required("replan")
def replan_practice(slug: str):
    practice = get_practice_or_404(principal(), slug)
    administration.replan_practice(practice)
    record(principal(), "practice.replan", practice)
    db.session.commit()
    flash(_("The reminders of %(name)s have been planned again.", name=practice.name), "success")
    return redirect(_back() or url_for("settings.practice", slug=slug))


def _back() -> str | None:
    """The page the form was on, when it is one of ours."""
    target = request.referrer or ""
    return target if target.startswith(request.host_url) else None


@bp.get("/audit")
@permission_required("read")
def audit():
    """The audit log, as GET /api/v1/audit shows it: whoever may read sees it within their scope."""
    statement = (
        select(AuditEntry).where(group_condition(principal(), AuditEntry.group_id))
        .options(joinedload(AuditEntry.actor_user))
        .order_by(AuditEntry.id.desc())
    )
    form, status = AuditFilterForm(request.args), 200
    action = (form.action.data or "").strip()
    if not form.validate():
        flash(form.action.errors[0], "error")
        action, status = "", 400
    if action:
        statement = statement.where(AuditEntry.action.startswith(action))
    return render_template("support/audit.html", page=paginate(statement), action=action), status
