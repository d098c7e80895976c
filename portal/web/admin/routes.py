"""Vendor pages: practice groups and practices, licences, API keys, users, usage."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, load_only, selectinload

from ... import administration
from ...access import get_or_404, get_practice_or_404, scoped
from ...extensions import db
from ...i18n import domain_text
from ...models import ApiToken, Licence, Practice, PracticeApiKey, PracticeGroup, User
from ..common import choices, paginate, permission_required, principal, roles_required
from . import usage as usage_figures
from .forms import LICENCE_ACTIONS, ApiKeyForm, GroupForm, LicenceForm, PracticeForm, TokenForm, UserChangeForm, UserForm

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _groups() -> list[PracticeGroup]:
    return db.session.scalars(scoped(principal(), PracticeGroup).order_by(PracticeGroup.name)).all()


def _practice_form(**kwargs) -> PracticeForm:
    form = PracticeForm(**kwargs)
    form.group.choices = choices((group.slug, group.name) for group in _groups())
    return form


# --- practice groups and practices ---------------------------------------------

@bp.get("/")
@bp.get("/practices")
@permission_required("manage_tenants")
def practices():
    statement = (
        scoped(principal(), Practice)
        .options(joinedload(Practice.group), selectinload(Practice.licences))
        .order_by(Practice.slug)
    )
    if query := request.args.get("q", "").strip():
        statement = statement.where(Practice.name.ilike(f"%{query}%") | Practice.slug.ilike(f"%{query}%"))
    return render_template("admin/practices.html", page=paginate(statement), query=query,
                           group_form=GroupForm(prefix="group"), practice_form=_practice_form(prefix="practice"))


@bp.post("/groups")
@permission_required("manage_tenants")
def create_group():
    form = GroupForm(prefix="group")
    if form.validate_on_submit():
        try:
            administration.create_group(principal(), form.slug.data, form.name.data)
            flash(_("Practice group %(name)s created.", name=form.name.data), "success")
            return redirect(url_for(".practices"))
        except administration.Invalid as error:
            _field_errors(form, error)
    page = paginate(scoped(principal(), Practice).order_by(Practice.slug))
    return render_template("admin/practices.html", page=page, query="", group_form=form,
                           practice_form=_practice_form(prefix="practice")), 422


@bp.post("/practices")
@permission_required("manage_tenants")
def create_practice():
    form = _practice_form(prefix="practice")
    if form.validate_on_submit():
        group = get_or_404(principal(), PracticeGroup, PracticeGroup.slug == form.group.data)
        try:
            practice = administration.create_practice(principal(), group, form.slug.data, form.name.data,
                                                      phone=form.phone.data or None)
            flash(_("Practice %(name)s created.", name=practice.name), "success")
            return redirect(url_for(".practice", slug=practice.slug))
        except administration.Invalid as error:
            _field_errors(form, error)
    page = paginate(scoped(principal(), Practice).order_by(Practice.slug))
    return render_template("admin/practices.html", page=page, query="", group_form=GroupForm(prefix="group"),
                           practice_form=form), 422


@bp.get("/practices/<slug>")
@permission_required("manage_tenants")
def practice(slug: str):
    return _practice_page(get_practice_or_404(principal(), slug))


def _practice_page(practice: Practice, licence_form=None, new_key=None, status=200):
    keys = db.session.scalars(
        scoped(principal(), PracticeApiKey).where(PracticeApiKey.practice_id == practice.id)
        .order_by(PracticeApiKey.id.desc())
    ).all()
    history = db.session.scalars(
        select(Licence).where(Licence.practice_id == practice.id).options(joinedload(Licence.created_by))
        .order_by(Licence.id.desc())
    ).all()
    return render_template(
        "admin/practice.html", practice=practice, history=history, keys=keys, new_key=new_key,
        licence_form=licence_form or LicenceForm(current=practice.licence), key_form=ApiKeyForm(),
        actions=LICENCE_ACTIONS, quota=usage_figures.quota_usage(practice),
    ), status


@bp.post("/practices/<slug>/licence")
@permission_required("manage_licences")
def change_licence(slug: str):
    practice = get_practice_or_404(principal(), slug)
    form = LicenceForm(current=practice.licence)
    if not form.validate_on_submit():
        return _practice_page(practice, licence_form=form, status=422)
    try:
        administration.change_licence(principal(), practice, action=f"licence.{form.action.data}",
                                      **form.licence_values())
    except administration.Invalid as error:
        _field_errors(form, error)
        return _practice_page(practice, licence_form=form, status=422)
    flash(_("Licence changed: %(action)s.", action=LICENCE_ACTIONS[form.action.data]), "success")
    return redirect(url_for(".practice", slug=slug))


@bp.post("/practices/<slug>/api-keys")
@permission_required("manage_keys")
def issue_key(slug: str):
    practice = get_practice_or_404(principal(), slug)
    form = ApiKeyForm()
    if not form.validate_on_submit():
        return _practice_page(practice, status=422)
    _key, secret = administration.issue_key(principal(), practice, form.label.data or None)
    # Shown in this response only; it is stored as a hash.
    return _practice_page(practice, new_key=secret)


@bp.post("/practices/<slug>/api-keys/<int:key_id>/revoke")
@permission_required("manage_keys")
def revoke_key(slug: str, key_id: int):
    practice = get_practice_or_404(principal(), slug)
    key = get_or_404(principal(), PracticeApiKey, PracticeApiKey.id == key_id, PracticeApiKey.practice_id == practice.id)
    administration.revoke_key(principal(), key)
    flash(_("API key %(prefix)s… revoked.", prefix=key.prefix), "success")
    return redirect(url_for(".practice", slug=slug))


# --- users --------------------------------------------------------------------------

@bp.route("/users", methods=["GET", "POST"])
@permission_required("manage_users")
def users():
    groups = _groups()
    form = UserForm(groups, prefix="new")
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                user = administration.create_user(principal(), form.email.data, form.role.data,
                                                  _group(form.group.data), form.password.data)
                flash(_("User %(email)s created.", email=user.email), "success")
                return redirect(url_for(".users"))
            except administration.Invalid as error:
                _field_errors(form, error)
        status = 422
    return _users_page(groups, form, status=status)


def _users_page(groups, form, new_token=None, status=200):
    page = paginate(select(User).options(joinedload(User.group)).order_by(User.email))
    tokens = db.session.scalars(
        select(ApiToken).where(ApiToken.user_id.in_([user.id for user in page.items]), ApiToken.revoked_at.is_(None))
        .order_by(ApiToken.id)
    ).all()
    return render_template("admin/users.html", page=page, form=form, groups=groups, new_token=new_token,
                           change_form=lambda user: _change_form(groups, user),
                           tokens={user.id: [t for t in tokens if t.user_id == user.id] for user in page.items}), status


def _change_form(groups, user: User) -> UserChangeForm:
    return UserChangeForm(groups, prefix=f"u{user.id}", formdata=None, role=user.role,
                          group=user.group.slug if user.group else "", active=user.active)


@bp.post("/users/<int:user_id>")
@permission_required("manage_users")
def change_user(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    form = UserChangeForm(_groups(), current_role=user.role, prefix=f"u{user.id}")
    valid = form.validate_on_submit()
    if not valid and form.errors.keys() == {"confirm_vendor"}:
        # The second step: the same change once more, with the confirmation ticked.
        return render_template("admin/confirm_vendor_role.html", user=user, form=form), 422
    if valid:
        if user.id == principal().user.id and (form.role.data != user.role or not form.active.data):
            flash(_("You cannot take your own administrator rights or deactivate yourself."), "error")
        else:
            administration.change_user(principal(), user, form.role.data, _group(form.group.data), form.active.data)
            flash(_("User %(email)s changed.", email=user.email), "success")
    else:
        flash("; ".join(error for errors in form.errors.values() for error in errors), "error")
    return redirect(url_for(".users"))


@bp.post("/users/<int:user_id>/token")
@permission_required("manage_users")
def issue_token(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    form = TokenForm()
    if not form.validate_on_submit():
        abort(400)
    _token, secret = administration.issue_token(principal(), user, form.label.data or None)
    groups = _groups()
    # Shown in this response only; it is stored as a hash.
    return _users_page(groups, UserForm(groups, prefix="new"), new_token=(user, secret))


@bp.post("/users/<int:user_id>/tokens/<int:token_id>/revoke")
@permission_required("manage_users")
def revoke_token(user_id: int, token_id: int):
    token = db.session.scalars(
        select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user_id)
    ).first() or abort(404)
    administration.revoke_token(principal(), token)
    flash(_("API token %(prefix)s… revoked.", prefix=token.prefix), "success")
    return redirect(url_for(".users"))


def _group(slug: str | None) -> PracticeGroup | None:
    return get_or_404(principal(), PracticeGroup, PracticeGroup.slug == slug) if slug else None


# --- usage -----------------------------------------------------------------------------

CHOOSER_LIMIT = 200


@bp.get("/usage")
@roles_required("vendor_admin", "group_admin")
def usage():
    days = min(max(request.args.get("days", 30, type=int), 7), 366)
    selected = request.args.get("practice") or None
    practice = get_practice_or_404(principal(), selected) if selected else None
    figures = usage_figures.daily(principal(), days, practice)
    # Slugs and names only: a vendor has thousands of practices, too many to load as whole objects.
    listed = scoped(principal(), Practice).options(load_only(Practice.id, Practice.slug, Practice.name)) \
        .order_by(Practice.name, Practice.id)
    # The table a page at a time, and the chooser only while it is short: a vendor's thousands
    # of rows and options would be most of the page's time, and no list to scroll through.
    page = None if practice else paginate(listed)
    visible = page.total if page else db.session.scalar(select(func.count()).select_from(listed.subquery()))
    chooser = db.session.scalars(listed).all() if visible <= CHOOSER_LIMIT else None
    return render_template("admin/usage.html", figures=figures, chart=usage_figures.chart(figures), days=days,
                           chooser=chooser, selected=selected, page=page,
                           per_practice=usage_figures.per_practice(principal(), days, [practice] if practice
                                                                   else page.items),
                           total=usage_figures.total(principal(), days, practice))


def _field_errors(form, error: administration.Invalid) -> None:
    for item in error.errors:
        field = getattr(form, item["field"], None)
        if field is not None:
            field.errors = list(field.errors) + [domain_text(item["message"])]
        else:
            flash(domain_text(item["message"]), "error")
