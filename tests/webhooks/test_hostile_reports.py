"""Validly signed but hostile status reports are refused as unreadable and change nothing."""

import pytest

from tests.hostile import DEEP_JSON, HOSTILE_TEXT, snapshot

from .test_status_reports import BASE, PATH, Webhook, report, sign

FIELDS = ["id", "status", "statusReason", "mccmnc"]


@pytest.fixture
def webhook(client):
    return Webhook(client)


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize("label", sorted(set(HOSTILE_TEXT) - {"huge"}))
def test_a_field_that_is_no_text_is_refused_naming_it(webhook, ctx, field, label):
    before = snapshot()
    response = webhook.post_json(report(**{field: HOSTILE_TEXT[label]}))
    assert response.status_code == 400, response.json
    assert field in response.json["detail"]
    assert snapshot() == before


def test_extra_fields_beyond_the_limit_are_refused(webhook, ctx):
    before = snapshot()
    response = webhook.post_json(report(**{f"extra{n}": "x" * 1000 for n in range(1500)}))
    assert response.status_code == 400 and "extra fields" in response.json["detail"]
    assert snapshot() == before
    assert webhook.post_json(report(**{"extra": "x" * 500})).status_code == 200


def test_deeply_nested_json_is_refused_before_parsing(client, ctx):
    body = ('{"id": "msg-1", "extra": %s}' % DEEP_JSON).encode()
    before = snapshot()
    response = client.post(PATH, data=body, headers={"MessageBird-Signature-JWT": sign(BASE + PATH, body),
                                                     "Content-Type": "application/json"})
    assert response.status_code == 400
    assert snapshot() == before
