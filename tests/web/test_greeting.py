"""{name} greets every patient properly; the editor warns where {anrede} would not."""
from datetime import datetime

import pytest

from portal.extensions import db
from portal.domain.messages import render, reminder_values
from portal.domain.settings import DEFAULT_TEMPLATE


@pytest.mark.parametrize("salutation, greeting", [("Frau", "Guten Tag Frau Becker,"), (None, "Guten Tag Christa Becker,"),
                                                  ("", "Guten Tag Christa Becker,")])
def test_the_default_text_greets_with_or_without_salutation(salutation, greeting):
    values = reminder_values(salutation=salutation, first_name="Christa", last_name="Becker",
                             start_local=datetime(2026, 11, 25, 10, 0), practice_name="Praxis am Markt",
                             practice_phone="030 1234567", therapist=None)
    assert render(DEFAULT_TEMPLATE, values).startswith(greeting)
    assert render("Hallo {name}!", values) == greeting.replace("Guten Tag ", "Hallo ").replace(",", "!")


def test_the_editor_warns_about_anrede_with_the_number_of_patients_without_one(as_user, tenants, make):
    make.patient(tenants["practice"], salutation=None, last_name="Becker")
    make.patient(tenants["practice"], salutation="Herr", last_name="Weiß")
    make.patient(tenants["other"], salutation=None)  # another group: not counted
    client = as_user(tenants["admin"])
    page = client.get("/settings/practices/nord-1").get_data(as_text=True)
    assert 'id="salutation-warning"' not in page  # the default text uses {name}
    tenants["home"].template = "Hallo {anrede} {nachname}, Termin {datum} {uhrzeit}"
    db.session.commit()
    page = client.get("/settings/practices/nord-1").get_data(as_text=True)
    assert "Der Text verwendet {anrede}: 1 Patienten der Gruppe haben keine Anrede" in page
