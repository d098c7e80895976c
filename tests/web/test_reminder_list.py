"""The group administrator's reminders list: coming appointments first, filtered
by the appointment's day (practice time), patient and status, in bounded pages."""
import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

BERLIN = ZoneInfo("Europe/Berlin")
LIST = "/settings/practices/nord-1/reminders"


def _appointment_ids(page: str) -> list[str]:
    """The practice program's appointment IDs in the order the list shows them."""
    return re.findall(r"<small>#([^<]+)</small>", page)


@pytest.fixture
def booked(make, tenants):
    """Reminders of two patients: two coming appointments and two past ones."""
    practice = tenants["practice"]
    now = datetime.now(timezone.utc).replace(microsecond=0)
    becker = make.patient(practice, first_name="Christa", last_name="Becker")
    weber = make.patient(practice, first_name="Jonas", last_name="Weber")
    for patient, external_id, days, status in [
        (becker, "soon", 1, "planned"), (weber, "later", 9, "planned"),
        (weber, "lately", -2, "submitted"), (becker, "long-ago", -20, "skipped"),
    ]:
        appointment = make.appointment(patient, now + timedelta(days=days), external_id=external_id)
        make.reminder(appointment, due_at=appointment.start_at - timedelta(hours=20), status=status,
                      reason="no_consent" if status == "skipped" else None)
    return practice


def test_coming_appointments_first_soonest_at_the_top_then_the_past_latest_first(as_user, tenants, booked):
    page = as_user(tenants["admin"]).get(LIST).get_data(as_text=True)
    assert _appointment_ids(page) == ["soon", "later", "lately", "long-ago"]
    # The past ones are introduced by a heading row, after the coming ones.
    assert page.index("#later") < page.index("Vergangene Termine") < page.index("#lately")


def test_filter_by_patient_finds_the_name_in_any_order_and_case(as_user, tenants, booked, make):
    other = make.patient(tenants["other"], first_name="Christa", last_name="Becker")
    make.reminder(make.appointment(other, datetime.now(timezone.utc) + timedelta(days=3), external_id="foreign"))
    client = as_user(tenants["admin"])
    for query in ("becker", "Becker Christa", "CHRISTA"):
        page = client.get(LIST, query_string={"patient": query}).get_data(as_text=True)
        assert _appointment_ids(page) == ["soon", "long-ago"], query
    nobody = client.get(LIST, query_string={"patient": "Niemand"}).get_data(as_text=True)
    assert _appointment_ids(nobody) == [] and "Keine Erinnerungen." in nobody


def test_filter_by_status(as_user, tenants, booked):
    page = as_user(tenants["admin"]).get(LIST, query_string={"status": "planned"}).get_data(as_text=True)
    assert _appointment_ids(page) == ["soon", "later"]
    assert '<option selected value="planned">' in page


def test_filter_by_the_appointments_day_in_the_practice_time_zone(as_user, tenants, make):
    patient = make.patient(tenants["practice"])
    # 23:30 in Berlin is already the next day in UTC-less thinking; the list counts Berlin's day.
    late = datetime(2026, 12, 10, 23, 30, tzinfo=BERLIN)
    early = datetime(2026, 12, 11, 0, 30, tzinfo=BERLIN)
    for start, external_id in ((late, "late-on-the-10th"), (early, "early-on-the-11th")):
        make.reminder(make.appointment(patient, start, external_id=external_id), due_at=start - timedelta(days=1))
    client = as_user(tenants["admin"])
    tenth = client.get(LIST, query_string={"date_from": "2026-12-10", "date_to": "2026-12-10"}).get_data(as_text=True)
    assert _appointment_ids(tenth) == ["late-on-the-10th"]
    from_eleventh = client.get(LIST, query_string={"date_from": "2026-12-11"}).get_data(as_text=True)
    assert _appointment_ids(from_eleventh) == ["early-on-the-11th"]
    until_tenth = client.get(LIST, query_string={"date_to": "2026-12-10"}).get_data(as_text=True)
    assert _appointment_ids(until_tenth) == ["late-on-the-10th"]


@pytest.mark.parametrize("query, field, message", [
    ({"date_from": "2026-12-10", "date_to": "2026-12-01"}, "date_to", "nicht vor seinem Beginn"),
    ({"date_from": "10.12.2026"}, "date_from", "Not a valid date value."),
    ({"date_from": "0001-01-01"}, "date_from", "zwischen 01.01.1900 und 31.12.2199"),
    ({"date_to": "9999-12-31"}, "date_to", "zwischen 01.01.1900 und 31.12.2199"),
    ({"status": "lost"}, "status", "Not a valid choice."),
    ({"patient": "x" * 101}, "patient", "100"),
])
def test_a_filter_that_cannot_be_read_is_refused_naming_its_field(as_user, tenants, booked, query, field, message):
    response = as_user(tenants["admin"]).get(LIST, query_string=query)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'href="#{field}"' in page and message in page[page.index(f'id="{field}-error"'):][:300]
    assert 'id="reminders"' not in page


def test_pages_are_bounded(as_user, tenants, make):
    patient = make.patient(tenants["practice"])
    start = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=1)
    for number in range(53):
        make.reminder(make.appointment(patient, start + timedelta(hours=number), external_id=f"a{number:02}"))
    client = as_user(tenants["admin"])
    first = client.get(LIST).get_data(as_text=True)
    assert _appointment_ids(first) == [f"a{number:02}" for number in range(50)]
    assert "Seite 1 von 2" in first
    second = client.get(LIST, query_string={"page": 2}).get_data(as_text=True)
    assert _appointment_ids(second) == ["a50", "a51", "a52"]
    assert _appointment_ids(client.get(LIST, query_string={"page": 99}).get_data(as_text=True)) == []


def test_another_groups_practice_stays_hidden(as_user, tenants, booked):
    assert as_user(tenants["stranger"]).get(LIST).status_code == 404
