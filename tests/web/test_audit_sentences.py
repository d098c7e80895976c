"""The audit log reads as sentences with before → after, not JSON and action codes."""
import pytest

from portal.domain.audit_text import changes, describe


def test_licence_changes_read_as_a_sentence_with_before_and_after(as_user, tenants):
    vendor = as_user(tenants["vendor"])
    vendor.post("/admin/practices/nord-1/licence", data={"action": "suspend"})
    page = vendor.get("/support/audit").get_data(as_text=True)
    assert "Lizenz für nord-1 ausgesetzt" in page and "Status: aktiv → ausgesetzt" in page
    assert "licence.suspend</" not in page and "{&#34;" not in page and "\\u00" not in page
    english = vendor.post("/language", data={"locale": "en"}) and vendor.get("/support/audit").get_data(as_text=True)
    assert "Licence of nord-1 suspended" in english and "status: active → suspended" in english


@pytest.mark.parametrize("before, after, expected", [
    ({"role": "support"}, {"role": "group_admin"}, ["Rolle: Support → Gruppenadministrator"]),
    ({"template": "Hallo {anrede}"}, {"template": "Hallo {name}"}, ["Erinnerungstext: Hallo {anrede} → Hallo {name}"]),
    ({"sms_enabled": False, "sender": "Praxis"}, {"sms_enabled": True, "sender": "Praxis"}, ["SMS eingeschaltet: nein → ja"]),
    (None, {"email": "neu@example.org", "role": "support"}, ["E-Mail: neu@example.org", "Rolle: Support"]),
    ({"valid_until": None}, {"valid_until": "2027-03-31"}, ["gültig bis: – → 31.03.2027"]),
])
def test_changes_in_words(before, after, expected):
    assert [f"{c.field}: {c.before + ' → ' if c.before else ''}{c.after}" for c in changes(before, after)] == expected


def test_an_unknown_action_is_shown_by_its_code():
    assert describe("session.end", "a@example.org") == "session.end a@example.org"
