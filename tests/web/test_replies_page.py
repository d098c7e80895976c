"""The replies page: what patients answered, per practice, within what the user may see, in both languages."""
from datetime import datetime, timedelta, timezone

import pytest

from tests.replies.conftest import Inbound, inbound


@pytest.fixture
def answered(client, make, tenants):
    """Erika of Praxis Nord answered JA, a patient of Praxis Süd answered NEIN."""
    now = datetime.now(timezone.utc).replace(microsecond=0)
    for practice, number, body in [(tenants["practice"], "0170 5550001", "Ja, gerne"),
                                   (tenants["other"], "0170 5550002", "Nein, leider nicht")]:
        patient = make.patient(practice, mobile=number, first_name="Erika", last_name=f"Muster-{practice.slug}")
        appointment = make.appointment(patient, now + timedelta(hours=20))
        make.reminder(appointment, status="submitted", submitted_at=now - timedelta(hours=1), recipient=patient.mobile_e164,
                      provider_message_id=f"out-{practice.slug}")
        assert Inbound(client).get(inbound(body, message_id=f"in-{practice.slug}",
                                           originator=patient.mobile_e164)).status_code == 200


def test_a_group_admin_sees_the_replies_of_their_practices_only(as_user, tenants, answered):
    page = as_user(tenants["admin"]).get("/replies/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Ja, gerne" in html and "Muster-nord-1" in html
    assert "Nein, leider nicht" not in html and "Praxis Süd" not in html
    assert 'href="/replies/"' in html  # in the navigation
    assert as_user(tenants["admin"]).get("/replies/?practice=sued-1").status_code == 404


def test_support_sees_every_practice_and_can_choose_one(as_user, tenants, answered):
    client = as_user(tenants["support"])
    html = client.get("/replies/").get_data(as_text=True)
    assert "Ja, gerne" in html and "Nein, leider nicht" in html
    one = client.get("/replies/?practice=sued-1").get_data(as_text=True)
    assert "Nein, leider nicht" in one and "Ja, gerne" not in one


def test_the_page_speaks_german_and_english(as_user, tenants, answered):
    client = as_user(tenants["admin"])
    client.post("/language", data={"locale": "de"})
    german = client.get("/replies/").get_data(as_text=True)
    assert "Antworten der Patienten" in german and "Termin bestätigt" in german
    client.post("/language", data={"locale": "en"})
    english = client.get("/replies/").get_data(as_text=True)
    assert "Replies from patients" in english and "appointment confirmed" in english


def test_the_reply_is_in_the_support_appointment_timeline(as_user, tenants, answered):
    from sqlalchemy import select

    from portal.extensions import db
    from portal.models import Reply

    reply = db.session.scalars(select(Reply).where(Reply.practice_id == tenants["practice"].id)).one()
    client = as_user(tenants["support"])
    client.post("/language", data={"locale": "en"})
    html = client.get(f"/support/appointments/{reply.appointment_id}").get_data(as_text=True)
    assert "the patient replied" in html and "„Ja, gerne“" in html and "(appointment confirmed)" in html
