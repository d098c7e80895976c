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


@pytest.fixture
def richters(make, tenants):
    """Five Richters at the home practice and three at the foreign one, appointments an hour apart."""
    start = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=2)
    found = {}
    for n, practice in enumerate([tenants["practice"]] * 5 + [tenants["other"]] * 3):
        patient = make.patient(practice, external_id=f"R-{n}", first_name=f"Vorname{n}", last_name="Richter")
        found[f"R-{n}"] = make.appointment(patient, start + timedelta(hours=n), external_id=f"A-R-{n}").id
    make.appointment(make.patient(tenants["practice"], external_id="X", first_name="Rita", last_name="Lang"),
                     start, external_id="A-X")
    return found


@pytest.mark.parametrize("candidates, page, window", [(100, 50, 10), (4, 2, 10), (2, 3, 10), (4, 50, 10), (4, 2, 3)],
                         ids=["few bear it", "common in scope", "common everywhere", "common, not lately",
                              "the newest are another group's"])
@pytest.mark.parametrize("user, expected", [
    ("support", [f"R-{n}" for n in reversed(range(8))]),
    ("admin", [f"R-{n}" for n in reversed(range(5))]),
])
def test_a_surname_is_found_newest_first_however_many_bear_it(monkeypatch, api, make, tenants, richters,
                                                              candidates, page, window, user, expected):
    # a name borne by more patients in scope than NAME_CANDIDATES is searched from the newest
    # appointments if WALK_PAGE of them are among the newest WALK_WINDOW
    monkeypatch.setattr("portal.support.NAME_CANDIDATES", candidates)
    monkeypatch.setattr("portal.support.WALK_PAGE", page)
    monkeypatch.setattr("portal.support.WALK_WINDOW", window)
    client = api(make.token(tenants[user]))
    found = client.get("/lookup", query_string={"name": "richter"}).json["appointments"]
    assert [item["patient"]["id"] for item in found] == expected
    two = client.get("/lookup", query_string={"name": "Richter", "limit": 2}).json
    assert [item["patient"]["id"] for item in two["appointments"]] == expected[:2] and two["more"] is True
    one_practice = client.get("/lookup", query_string={"name": "Richter vorname", "practice": "nord-1"}).json
    assert [item["patient"]["id"] for item in one_practice["appointments"]] == [f"R-{n}" for n in reversed(range(5))]


@pytest.mark.parametrize("counted, hint", [(3, "Mehr als 3 Termine gefunden"), (100, None)])
def test_the_lookup_page_counts_a_common_name_up_to_a_limit(monkeypatch, as_user, tenants, richters, counted, hint):
    monkeypatch.setattr("portal.support.COUNTED_MATCHES", counted)
    page = as_user(tenants["support"]).get("/support/", query_string={"name": "Richter"}).get_data(as_text=True)
    assert all(f"/support/appointments/{appointment_id}\"" in page for appointment_id in richters.values())
    assert (hint in page) if hint else 'id="capped"' not in page


def test_a_vendor_with_many_practices_types_the_practice(monkeypatch, as_user, tenants, richters):
    client = as_user(tenants["support"])
    listed = client.get("/support/").get_data(as_text=True)
    assert '<select id="practice" name="practice">' in listed and "Praxis Süd</option>" in listed
    monkeypatch.setattr("portal.web.support.routes.CHOOSER_LIMIT", 1)
    typed = client.get("/support/", query_string={"name": "Richter", "practice": "sued-1"}).get_data(as_text=True)
    assert '<select id="practice"' not in typed and 'value="sued-1"' in typed and "Kurzname; leer: alle Praxen" in typed
    found = {key for key, appointment_id in richters.items() if f"/support/appointments/{appointment_id}\"" in typed}
    assert found == {"R-5", "R-6", "R-7"}
