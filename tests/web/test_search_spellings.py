"""Search finds what people say on the phone: umlauts spelled out, any order, numbers with typos."""
from datetime import datetime, timedelta, timezone

import pytest

from portal.domain.search_keys import fold, name_key, phone_key


@pytest.mark.parametrize("stored, typed", [
    ("Müller", "Mueller"), ("Mueller", "Müller"), ("Weiß", "Weiss"), ("Weiss", "weiß"), ("Özlem", "Oezlem"),
    ("José", "jose"), ("Ñúñez", "nunez"), ("Groß-Bölling", "bölling"),
])
def test_names_fold_alike(stored, typed):
    assert f" {fold(typed)}" in name_key(stored)


@pytest.mark.parametrize("stored, typed", [
    ("0176 98765O3", "0176 9876503"), ("0176 98765O3", "+49 176 9876503"), ("0l76-9876503", "0176 9876503"),
    ("0176/9876503", "0049 176 98765 03"), ("12 34 5", "12345"),
])
def test_numbers_fold_alike(stored, typed):
    assert phone_key(stored) == phone_key(typed)


@pytest.fixture
def people(make, tenants):
    start = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=2)
    found = {}
    for external_id, first, last, mobile in [
        ("P-1", "Hans", "Müller", "0170 1111111"), ("P-2", "Erna", "Weiß", "0170 2222222"),
        ("P-3", "Özlem", "Yılmaz", "0170 3333333"), ("P-4", "Christa", "Becker", "0176 98765O3"),
    ]:
        patient = make.patient(tenants["practice"], external_id=external_id, first_name=first, last_name=last,
                               mobile=mobile)
        found[external_id] = make.appointment(patient, start, external_id=f"A-{external_id}").id
    return found


@pytest.mark.parametrize("query, expected", [
    ({"name": "Mueller"}, "P-1"), ({"name": "müller hans"}, "P-1"), ({"name": "Weiss"}, "P-2"),
    ({"name": "oezlem"}, "P-3"), ({"name": "Yilmaz"}, "P-3"), ({"name": "Becker Christa"}, "P-4"),
    ({"name": "chris beck"}, "P-4"), ({"phone": "0176 9876503"}, "P-4"), ({"phone": "0176 98765O3"}, "P-4"),
    ({"phone": "+49 (170) 111 11 11"}, "P-1"),
])
def test_lookup_finds_real_world_spellings(as_user, tenants, people, query, expected):
    page = as_user(tenants["support"]).get("/support/", query_string=query).get_data(as_text=True)
    found = {key for key, appointment_id in people.items() if f"/support/appointments/{appointment_id}\"" in page}
    assert found == {expected}, query


def test_the_api_lookup_uses_the_same_keys(api, make, tenants, people):
    client = api(make.token(tenants["support"]))
    response = client.get("/lookup", query_string={"name": "Becker Christa", "phone": "0176 9876503"})
    assert [found["patient"]["id"] for found in response.json["appointments"]] == ["P-4"]
    assert client.get("/lookup", query_string={"name": "Weis Hans"}).json["appointments"] == []
