"""The group and practice dialogs, the text preview, reminders and data quality."""
from flask import Blueprint, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from ... import administration, reminder_list, support
from ...access import get_group_or_404, get_practice_or_404, scoped
from ...domain import messages
from ...domain.inputs import text_problem
from ...domain.reasons import status_text
from ...domain.settings import TEXT_SETTINGS, effective, setting_problem
from ...i18n import domain_text
from ...models import REMINDER_STATUSES, Practice, PracticeGroup, utcnow
from ...practices import effective_settings, licence_active, own_settings
from ..admin.usage import quota_usage
from ..common import choices, locale_code, paginate, paginate_ids, permission_required, principal
from .forms import LABELS, POLICIES, SOURCES, PracticeSettingsForm, ReminderFilterForm, SettingsForm

bp = Blueprint("settings", __name__, url_prefix="/settings")


@bp.get("/")
@permission_required("write_settings")
def index():
    page = paginate(
        scoped(principal(), PracticeGroup)
        .options(selectinload(PracticeGroup.practices).selectinload(Practice.licences))
        .order_by(PracticeGroup.name, PracticeGroup.id),
        per_page=20,
    )
    return render_template("settings/index.html", page=page, licence_active=licence_active)


# --- dialogs ------------------------------------------------------------------------

@bp.route("/groups/<slug>", methods=["GET", "POST"])
@permission_required("write_settings")
def group(slug: str):
    group = get_group_or_404(principal(), slug)
    form = SettingsForm()
    if form.validate_on_submit() and _save(form, group):
        flash(_("The settings of %(name)s have been saved.", name=group.name), "success")
        return redirect(url_for(".group", slug=slug))
    if request.method == "GET":
        form.fill(own_settings(group), effective(own_settings(group)))
    return _dialog(form, group, effective(own_settings(group)))


@bp.route("/practices/<slug>", methods=["GET", "POST"])
@permission_required("write_settings")
def practice(slug: str):
    practice = get_practice_or_404(principal(), slug)
    form = PracticeSettingsForm()
    if form.validate_on_submit() and _save(form, practice):
        flash(_("The settings of %(name)s have been saved.", name=practice.name), "success")
        return redirect(url_for(".practice", slug=slug))
    if request.method == "GET":
        form.fill(own_settings(practice), effective_settings(practice), practice.sms_enabled)
    return _dialog(form, practice, effective_settings(practice))


def _save(form: SettingsForm, holder) -> bool:
    """Store the dialog through the shared service; field errors go back onto the form."""
    changes = form.changes()
    problems = {name: template_problem(text) for name, text in changes.items()
                if name in TEXT_SETTINGS and text is not None}
    for name, problem in problems.items():
        if problem:
            getattr(form, name).errors = [problem]
    if any(problems.values()):
        return False
    try:
        administration.change_settings(principal(), holder, changes)
    except administration.Invalid as error:
        for item in error.errors:
            field = getattr(form, item["field"])
            field.errors = list(field.errors) + [_error_text(item)]
        return False
    return True


def _error_text(item: dict) -> str:
    if item["field"] == "sms_enabled":
        return _("SMS can be switched on only while the practice holds an active licence.")
    return domain_text(item["message"])


def _dialog(form, holder, effective_values):
    status = 422 if form.errors else 200
    is_practice = isinstance(holder, Practice)
    return render_template(
        "settings/dialog.html", form=form, holder=holder, is_practice=is_practice, effective=effective_values,
        labels=LABELS, sources=SOURCES, policies=POLICIES,
        licensed=licence_active(holder) if is_practice else None, placeholders=messages.PLACEHOLDERS,
        inherited=effective(own_settings(holder.group)) if is_practice else effective(None),
        quota=quota_usage(holder) if is_practice else None,
        reply_number=current_app.config["MESSAGEBIRD_REPLY_NUMBER"],
        replies_unreachable=messages.replies_unreachable(effective_values["replies_enabled"].value,
                                                         current_app.config["MESSAGEBIRD_REPLY_NUMBER"]),
        without_salutation=(support.patients_without_salutation(principal(), holder.group if is_practice else holder)
                            if "{anrede}" in effective_values["template"].value else None),
    ), status


# --- live preview ---------------------------------------------------------------------

# What the reminder's editor sends beside the text, and of which type.
PREVIEW_CHOICES = {"sender": str, "replies_enabled": bool, "reply_line": str}


@bp.post("/preview")
@permission_required("write_settings")
def preview():
    """A text filled with sample data as the patient gets it, its sender, encoding and segments (JSON).

    The reminder's editor also sends the dialog's current `sender`,
    `replies_enabled` and `reply_line`: where the reminder would end with the
    reply line, the preview does too, so the segment count shows its cost.
    The notice texts' editors send the text alone.
    """
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("template"), str):
        return jsonify(error=_("Send the text as {\"template\": \"...\"}.")), 400
    if wrong := next((name for name, kind in PREVIEW_CHOICES.items()
                      if name in body and not isinstance(body[name], kind)), None):
        return jsonify(error=_("Send %(field)s as true or false.", field=wrong) if wrong == "replies_enabled"
                       else _("Send %(field)s as text.", field=wrong)), 400
    replies, line = body.get("replies_enabled", False), body.get("reply_line", "")
    line_problem = (setting_problem("reply_line", line) or text_problem(line)) if replies else None
    reply_number = current_app.config["MESSAGEBIRD_REPLY_NUMBER"]
    # A line that cannot be saved is not shown as sent.
    sent_as = messages.outgoing({"sender": body.get("sender", ""), "replies_enabled": replies and not line_problem,
                                 "reply_line": line}, reply_number)
    problem = template_problem(body["template"])
    text = sent_as.text(messages.render(body["template"], messages.SAMPLE_VALUES))
    info = messages.sms_info(text)
    return jsonify(
        ok=not (problem or line_problem), error=problem, reply_line_error=domain_text(line_problem) or None,
        text=text, sender=sent_as.sender, reply_line=sent_as.reply_line,
        replies_unreachable=messages.replies_unreachable(replies, reply_number),
        encoding=info.encoding, length=info.length, segments=info.segments, per_segment=info.per_segment,
        remaining=info.remaining,
        summary=_("%(encoding)s · %(length)s characters · %(segments)s SMS", encoding=info.encoding,
                  length=info.length, segments=info.segments),
    )


def template_problem(template: str) -> str | None:
    """Why a text (reminder or notice) cannot be saved, in the user's language, naming the placeholder."""
    try:
        messages.check_template(template)
    except messages.TemplateError as error:
        allowed = ", ".join("{" + name + "}" for name in messages.PLACEHOLDERS)
        if error.placeholder in ("{", "}"):
            return _('Single "%(brace)s" without its partner; write "%(double)s" for a literal brace.',
                     brace=error.placeholder, double=error.placeholder * 2)
        if error.placeholder == "":
            return _('Empty placeholder "{}". Allowed: %(allowed)s', allowed=allowed)
        if error.placeholder is not None:
            return _('Unknown placeholder "{%(name)s}". Allowed: %(allowed)s', name=error.placeholder, allowed=allowed)
        if not template.strip():
            return _("The text is empty.")
        return _("The text is longer than %(n)s characters.", n=messages.MAX_TEMPLATE_LENGTH)
    return None


# --- reminders and data quality ------------------------------------------------------

@bp.get("/practices/<slug>/reminders")
@permission_required("read")
def reminders(slug: str):
    """The practice's reminders, filtered; a filter that cannot be read is a 422 naming its field."""
    practice = get_practice_or_404(principal(), slug)
    form = ReminderFilterForm(request.args)
    form.status.choices = choices([("", _("all"))] + [(code, status_text(code, locale_code()))
                                                      for code in REMINDER_STATUSES])
    now = utcnow()
    valid = form.validate()
    page = paginate_ids(reminder_list.reminder_ids(principal(), practice, form.chosen(), now),
                        reminder_list.load) if valid else None
    return render_template("settings/reminders.html", practice=practice, page=page, form=form, now=now,
                           verdicts=support.reminder_verdicts(page.items) if page else {},
                           zone=effective_settings(practice)["timezone"].value), 200 if valid else 422


@bp.get("/practices/<slug>/data-quality")
@permission_required("read")
def data_quality(slug: str):
    """Patients who consented to SMS but whose mobile number is missing or invalid."""
    practice = get_practice_or_404(principal(), slug)
    return render_template("settings/data_quality.html", practice=practice,
                           page=paginate(support.patients_needing_a_number(principal(), practice)))

