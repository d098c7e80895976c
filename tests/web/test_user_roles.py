"""The role of a new user is chosen on purpose, and the vendor administrator
role (every tenant) is given only with a confirmation of its own."""
import re

from sqlalchemy import select

from portal.extensions import db
from portal.models import User

NEW = {"new-email": "neu@example.org", "new-group": "", "new-password": "long enough pw"}


def _user(email: str) -> User | None:
    return db.session.scalars(select(User).where(User.email == email)).first()


def test_the_role_chooser_starts_on_a_placeholder(as_user, tenants):
    page = as_user(tenants["vendor"]).get("/admin/users").get_data(as_text=True)
    chooser = re.search(r'<select[^>]*id="new-role"[^>]*>(.*?)</select>', page, re.S).group(1)
    options = re.findall(r"<option([^>]*)>([^<]*)</option>", chooser)
    assert options[0] == (' value=""', "Rolle wählen")
    assert not any("selected" in attributes for attributes, _label in options)


def test_a_user_without_a_chosen_role_is_refused(as_user, tenants):
    response = as_user(tenants["vendor"]).post("/admin/users", data={**NEW, "new-role": ""})
    assert response.status_code == 422
    assert "Bitte wählen Sie eine Rolle." in response.get_data(as_text=True)
    assert _user("neu@example.org") is None


def test_a_new_vendor_administrator_needs_the_confirmation(as_user, tenants):
    client = as_user(tenants["vendor"])
    refused = client.post("/admin/users", data={**NEW, "new-role": "vendor_admin"})
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert 'href="#new-confirm_vendor"' in page and 'id="new-confirm_vendor-error"' in page
    assert _user("neu@example.org") is None

    confirmed = client.post("/admin/users", data={**NEW, "new-role": "vendor_admin", "new-confirm_vendor": "y"})
    assert confirmed.status_code == 302
    assert _user("neu@example.org").role == "vendor_admin"


def test_other_roles_need_no_confirmation(as_user, tenants):
    response = as_user(tenants["vendor"]).post("/admin/users", data={**NEW, "new-role": "support"})
    assert response.status_code == 302
    assert _user("neu@example.org").role == "support"


def test_raising_a_user_to_vendor_administrator_takes_a_second_step(as_user, tenants):
    client, user = as_user(tenants["vendor"]), tenants["admin"]
    change = {f"u{user.id}-role": "vendor_admin", f"u{user.id}-group": "", f"u{user.id}-active": "y"}
    step = client.post(f"/admin/users/{user.id}", data=change)
    assert step.status_code == 422
    page = step.get_data(as_text=True)
    assert "admin@example.org soll Hersteller-Administrator werden" in page
    assert f'name="u{user.id}-role" value="vendor_admin"' in page and f'name="u{user.id}-active" value="y"' in page
    db.session.refresh(user)
    assert user.role == "group_admin"

    assert client.post(f"/admin/users/{user.id}", data={**change, f"u{user.id}-confirm_vendor": "y"}).status_code == 302
    db.session.refresh(user)
    assert (user.role, user.group_id) == ("vendor_admin", None)


def test_a_vendor_administrator_is_changed_without_asking_again(as_user, tenants, make):
    other = make.user("vendor_admin", email="zweite@example.org")
    client = as_user(tenants["vendor"])
    response = client.post(f"/admin/users/{other.id}", data={f"u{other.id}-role": "vendor_admin", f"u{other.id}-group": ""})
    assert response.status_code == 302
    db.session.refresh(other)
    assert (other.role, other.active) == ("vendor_admin", False)
