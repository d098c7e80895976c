"""The sandbox speaks MessageBird's REST API to the stock SDK and sends reports the SDK validates."""

import re
import time

import messagebird
import pytest
import requests
from messagebird.client import USER_AGENT, ErrorException
from messagebird.error import ValidationError
from messagebird.http_client import HttpClient
from messagebird.request_validator import RequestValidator

from sandbox import create_app
from sandbox.__main__ import parse_args
from sandbox.reports import sign

REPORT_FIELDS = {
    "id", "reference", "recipient", "status", "statusDatetime", "statusReason", "mccmnc",
    "ported", "datacoding", "messageLength", "messagePartCount", "price[amount]", "price[currency]",
}


def post_message(server, **fields):
    data = {"originator": "Praxis", "recipients": ["4917012345678"], "body": "Termin morgen 10:00"}
    data.update(fields)
    return server.http.post(f"{server.url}/messages", json=data, timeout=5)


def record_of(server, message_id):
    return next(item for item in server.messages() if item["message"]["id"] == message_id)


def test_stock_sdk_creates_reads_and_deletes_a_message(sandbox_server):
    client = messagebird.Client(
        sandbox_server.access_key,
        http_client=HttpClient(sandbox_server.url, sandbox_server.access_key, USER_AGENT),
    )
    message = client.message_create(
        "Praxis", ["4917012345678"], "Hallo", {"reference": "rem-1", "validity": 3600}
    )

    assert re.fullmatch(r"[0-9a-f]{32}", message.id)
    assert message.href.endswith(f"/messages/{message.id}")
    assert (message.direction, message.type, message.datacoding) == ("mt", "sms", "plain")
    assert (message.reference, message.validity) == ("rem-1", 3600)
    assert message.createdDatetime.tzinfo is not None
    assert message.recipients["items"][0].recipient == 4917012345678
    assert message.recipients["items"][0].status == "sent"
    assert [item["message"]["id"] for item in sandbox_server.messages()] == [message.id]
    assert client.message(message.id).body == "Hallo"

    client.message_delete(message.id)
    with pytest.raises(ErrorException) as refused:
        client.message(message.id)
    assert (refused.value.errors[0].code, refused.value.errors[0].description) == (20, "message not found")


def test_message_json_has_the_providers_shape(sandbox_server):
    response = post_message(sandbox_server, recipients="4917012345678,+4917087654321")

    assert response.status_code == 201
    message = response.json()
    assert list(message) == [
        "id", "href", "direction", "type", "originator", "body", "reference", "validity",
        "gateway", "typeDetails", "datacoding", "mclass", "scheduledDatetime",
        "createdDatetime", "recipients",
    ]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", message["createdDatetime"])
    recipients = message["recipients"]
    assert (recipients["totalCount"], recipients["totalSentCount"]) == (2, 2)
    assert (recipients["totalDeliveredCount"], recipients["totalDeliveryFailedCount"]) == (0, 0)
    assert [i["recipient"] for i in recipients["items"]] == [4917012345678, 4917087654321]
    assert all(i["status"] == "sent" and i["messagePartCount"] == 1 for i in recipients["items"])


@pytest.mark.parametrize("headers", [{}, {"Authorization": "AccessKey wrong"},
                                     {"Authorization": "Bearer sandbox-test-access-key"}])
@pytest.mark.parametrize("method, path", [
    ("POST", "/messages"), ("GET", "/messages/abc"), ("GET", "/_sandbox/messages"),
    ("POST", "/_sandbox/faults"), ("DELETE", "/_sandbox/messages"),
])
def test_wrong_or_missing_access_key_is_refused(sandbox_server, headers, method, path):
    response = requests.request(method, sandbox_server.url + path, headers=headers,
                                json={"error_rate": 1}, timeout=5)

    assert response.status_code == 401
    assert response.json() == {"errors": [{
        "code": 2, "description": "Request not allowed (incorrect access_key)",
        "parameter": "access_key",
    }]}


@pytest.mark.parametrize("fields, parameter", [
    ({"recipients": ["O17012345678"]}, "recipient"),
    ({"recipients": "0170-1234567"}, "recipient"),
    ({"recipients": ["1234567"]}, "recipient"),
    ({"recipients": ["1234567890123456"]}, "recipient"),
    ({"recipients": []}, "recipient"),
    ({"originator": "PraxisAmMarkt"}, "originator"),
    ({"originator": "Praxis-Süd"}, "originator"),
    ({"originator": ""}, "originator"),
    ({"body": ""}, "body"),
    ({"reference": "r" * 129}, "reference"),
    ({"validity": 0}, "validity"),
    ({"datacoding": "latin1"}, "datacoding"),
])
def test_invalid_fields_are_refused_with_code_9(sandbox_server, fields, parameter):
    response = post_message(sandbox_server, **fields)

    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert (error["code"], error["parameter"]) == (9, parameter)
    assert sandbox_server.messages() == []


@pytest.mark.parametrize("originator", ["Praxis1", "PraxisMarkt", "+4930123456", "4930123456"])
def test_valid_originators_are_accepted(sandbox_server, originator):
    assert post_message(sandbox_server, originator=originator).status_code == 201


@pytest.mark.parametrize("body, requested, datacoding, parts", [
    ("a" * 160, "plain", "plain", 1),
    ("a" * 161, "plain", "plain", 2),
    ("ä" * 160, "plain", "plain", 1),
    ("€" * 80, "plain", "plain", 1),  # extension characters cost two septets
    ("€" * 81, "plain", "plain", 2),
    ("Grüße", "auto", "plain", 1),
    ("ça va", "auto", "unicode", 1),
    ("a" * 70, "unicode", "unicode", 1),
    ("a" * 71, "unicode", "unicode", 2),
    ("😀" * 35, "auto", "unicode", 1),  # two UTF-16 units each
    ("😀" * 36, "auto", "unicode", 2),
])
def test_datacoding_and_part_count(sandbox_server, body, requested, datacoding, parts):
    message = post_message(sandbox_server, body=body, datacoding=requested).json()

    assert message["datacoding"] == datacoding
    assert message["recipients"]["items"][0]["messagePartCount"] == parts


def test_status_reports_arrive_signed_and_in_order(sandbox_server, receiver, wait_for):
    message = post_message(sandbox_server, reference="rem-42", reportUrl=receiver.report_url).json()

    reports = wait_for(lambda: receiver.received(2))
    assert [r["args"]["status"] for r in reports] == ["sent", "delivered"]
    validator = RequestValidator(sandbox_server.signing_key)
    claims = [validator.validate_signature(r["jwt"], r["url"], r["body"]) for r in reports]
    assert all(c["iss"] == "MessageBird" and "payload_hash" not in c for c in claims)
    assert claims[0]["jti"] != claims[1]["jti"]
    for report in reports:
        assert set(report["args"]) == REPORT_FIELDS
        assert report["args"]["id"] == message["id"]
        assert report["args"]["reference"] == "rem-42"
        assert report["args"]["recipient"] == "4917012345678"
        assert report["args"]["price[currency]"] == "EUR"
        assert "price%5Bamount%5D=" in report["url"] and "%3A" in report["url"]
    assert reports[0]["args"]["statusDatetime"] <= reports[1]["args"]["statusDatetime"]

    record = wait_for(lambda: (r := record_of(sandbox_server, message["id"]))["report_attempts"] == 2 and r)
    assert [(r["status"], r["attempts"], r["delivered"]) for r in record["reports"]] == [
        ("sent", 1, True), ("delivered", 1, True)]
    stored = sandbox_server.http.get(f"{sandbox_server.url}/messages/{message['id']}").json()
    assert stored["recipients"]["items"][0]["status"] == "delivered"
    assert stored["recipients"]["totalDeliveredCount"] == 1


def test_tampered_or_stale_reports_fail_validation(sandbox_server, receiver, wait_for):
    post_message(sandbox_server, reference="rem-1", reportUrl=receiver.report_url)
    report = wait_for(lambda: receiver.received(1))[0]
    validator = RequestValidator(sandbox_server.signing_key)

    with pytest.raises(ValidationError, match="url_hash"):
        validator.validate_signature(report["jwt"], report["url"].replace("status=sent", "status=delivered"), b"")
    with pytest.raises(ValidationError, match="payload_hash"):
        validator.validate_signature(report["jwt"], report["url"], b'{"status": "delivered"}')
    with pytest.raises(ValidationError):
        RequestValidator("another-signing-key-0123456789abcdef").validate_signature(
            report["jwt"], report["url"], b"")
    with pytest.raises(ValidationError, match="expired"):
        validator.validate_signature(sign(sandbox_server.signing_key, report["url"], now=time.time() - 600),
                                     report["url"], b"")


def test_signature_covers_a_body_when_there_is_one():
    key, url, body = "k" * 40, "http://localhost:5000/webhooks/messagebird/status", b'{"id": "1"}'
    validator = RequestValidator(key)

    assert validator.validate_signature(sign(key, url, body), url, body)["payload_hash"]
    with pytest.raises(ValidationError):
        validator.validate_signature(sign(key, url, body), url, b'{"id": "2"}')


def test_only_messages_with_reference_and_report_url_get_reports(sandbox_server, receiver, wait_for):
    post_message(sandbox_server, reportUrl=receiver.report_url)
    post_message(sandbox_server, reference="rem-1")
    post_message(sandbox_server, reference="rem-2", reportUrl=receiver.report_url)

    reports = wait_for(lambda: receiver.received(2))
    assert {r["args"]["reference"] for r in reports} == {"rem-2"}


def test_duplicate_reports_repeat_each_report(sandbox_server, receiver, wait_for):
    sandbox_server.set_faults(duplicate_reports=True)
    post_message(sandbox_server, reference="rem-1", reportUrl=receiver.report_url)

    reports = wait_for(lambda: receiver.received(4))
    assert [r["args"]["status"] for r in reports] == ["sent", "sent", "delivered", "delivered"]
    assert reports[0]["args"] == reports[1]["args"] and reports[2]["args"] == reports[3]["args"]
    assert reports[0]["jwt"] != reports[1]["jwt"]  # a fresh token (jti) for every request


def test_reverse_reports_send_the_final_status_first(sandbox_server, receiver, wait_for):
    sandbox_server.set_faults(reverse_reports=True)
    message = post_message(sandbox_server, reference="rem-1", reportUrl=receiver.report_url).json()

    reports = wait_for(lambda: receiver.received(2))
    assert [r["args"]["status"] for r in reports] == ["delivered", "sent"]
    # the times still follow the provider's order
    assert reports[1]["args"]["statusDatetime"] <= reports[0]["args"]["statusDatetime"]
    wait_for(lambda: record_of(sandbox_server, message["id"])["report_attempts"] == 2)
    stored = sandbox_server.http.get(f"{sandbox_server.url}/messages/{message['id']}").json()
    assert stored["recipients"]["items"][0]["status"] == "delivered"


def test_outcomes_by_recipient(sandbox_server, receiver, wait_for):
    sandbox_server.set_faults(outcomes={
        "+4917099999999": "delivery_failed",
        "4917088888888": {"status": "expired", "statusReason": "validity expired", "statusErrorCode": 27},
    })
    message = post_message(
        sandbox_server, recipients=["4917099999999", "4917088888888", "4917012345678"],
        reference="rem-1", reportUrl=receiver.report_url,
    ).json()

    reports = wait_for(lambda: receiver.received(6))
    final = {r["args"]["recipient"]: r["args"] for r in reports if r["args"]["status"] != "sent"}
    assert final["4917099999999"]["status"] == "delivery_failed"
    assert final["4917099999999"]["statusReason"] == "unknown subscriber"
    assert final["4917099999999"]["statusErrorCode"] == "5"
    assert (final["4917088888888"]["status"], final["4917088888888"]["statusErrorCode"]) == ("expired", "27")
    assert final["4917012345678"]["status"] == "delivered"
    assert "statusErrorCode" not in final["4917012345678"]
    wait_for(lambda: record_of(sandbox_server, message["id"])["report_attempts"] == 6)
    totals = sandbox_server.http.get(f"{sandbox_server.url}/messages/{message['id']}").json()["recipients"]
    assert (totals["totalDeliveredCount"], totals["totalDeliveryFailedCount"]) == (1, 1)


def test_failed_report_delivery_is_retried(sandbox_server, make_receiver, wait_for):
    receiver = make_receiver(fail_first=2)
    message = post_message(sandbox_server, reference="rem-1", reportUrl=receiver.report_url).json()

    reports = wait_for(lambda: receiver.received(4))
    assert [r["args"]["status"] for r in reports] == ["sent", "sent", "sent", "delivered"]
    validator = RequestValidator(sandbox_server.signing_key)
    assert all(validator.validate_signature(r["jwt"], r["url"], b"") for r in reports)
    record = wait_for(lambda: (r := record_of(sandbox_server, message["id"]))["report_attempts"] == 4 and r)
    assert [(r["status"], r["attempts"], r["delivered"]) for r in record["reports"]] == [
        ("sent", 3, True), ("delivered", 1, True)]


def test_report_delivery_gives_up_after_the_backoff(make_sandbox, make_receiver, wait_for):
    server = make_sandbox(report_backoff=(0.01, 0.01))
    receiver = make_receiver(fail_first=1000)
    message = post_message(server, reference="rem-1", reportUrl=receiver.report_url).json()

    record = wait_for(lambda: (r := record_of(server, message["id"]))["report_attempts"] == 6 and r)
    assert [(r["status"], r["attempts"], r["delivered"], r["response_status"])
            for r in record["reports"]] == [("sent", 3, False, 500), ("delivered", 3, False, 500)]
    assert len(receiver.reports) == 6


def test_reports_are_unsigned_without_a_signing_key(make_sandbox, receiver, wait_for):
    server = make_sandbox(signing_key=None)
    post_message(server, reference="rem-1", reportUrl=receiver.report_url)

    assert wait_for(lambda: receiver.received(2))[0]["jwt"] is None


def test_status_sequence_then_normal(sandbox_server):
    sandbox_server.set_faults(status_sequence=[503, 429, 201], retry_after=7)

    answers = [post_message(sandbox_server) for _ in range(4)]

    assert [a.status_code for a in answers] == [503, 429, 201, 201]
    assert answers[1].headers["Retry-After"] == "7"
    assert answers[0].json()["errors"][0]["code"] == 99
    assert len(sandbox_server.messages()) == 2
    assert sandbox_server.http.get(f"{sandbox_server.url}/_sandbox/faults").json()["status_sequence"] == []


def test_error_rate(sandbox_server):
    sandbox_server.set_faults(error_rate=1.0)
    assert post_message(sandbox_server).status_code == 500
    sandbox_server.set_faults(error_rate=0.0)
    assert post_message(sandbox_server).status_code == 201


def test_reject_recipients(sandbox_server):
    sandbox_server.set_faults(reject_recipients=["+4917000000000"])

    refused = post_message(sandbox_server, recipients=["4917000000000"])
    assert (refused.status_code, refused.json()["errors"][0]["parameter"]) == (422, "recipient")
    assert post_message(sandbox_server).status_code == 201


def test_fault_config_is_replaced_and_validated(make_sandbox):
    server = make_sandbox(report_delay=0.05, error_rate=1.0, duplicate_reports=True)
    assert server.http.get(f"{server.url}/_sandbox/faults").json()["error_rate"] == 1.0

    faults = server.set_faults(reverse_reports=True)

    assert (faults["error_rate"], faults["duplicate_reports"], faults["reverse_reports"]) == (0.0, False, True)
    assert faults["report_delay"] == 0.05
    for bad in ({"error_rate": 2}, {"bogus": 1}, {"outcomes": {"491": "lost"}}, [1]):
        response = server.http.post(f"{server.url}/_sandbox/faults", json=bad)
        assert response.status_code == 400, bad
    with pytest.raises(ValueError):
        create_app("key", None, bogus=1)


def test_accept_then_delay_stores_before_the_client_gives_up(sandbox_server):
    sandbox_server.set_faults(delay_seconds=1.0, accept_then_delay=True)

    with pytest.raises(requests.ReadTimeout):
        sandbox_server.http.post(f"{sandbox_server.url}/messages", timeout=(1, 0.2), json={
            "originator": "Praxis", "recipients": "4917012345678", "body": "Hallo"})

    assert len(sandbox_server.messages()) == 1


def test_plain_delay_accepts_only_after_the_delay(sandbox_server, wait_for):
    sandbox_server.set_faults(delay_seconds=0.5)

    with pytest.raises(requests.ReadTimeout):
        sandbox_server.http.post(f"{sandbox_server.url}/messages", timeout=(1, 0.1), json={
            "originator": "Praxis", "recipients": "4917012345678", "body": "Hallo"})

    assert sandbox_server.messages() == []
    wait_for(sandbox_server.messages)


def test_inspection_list_can_be_cleared(sandbox_server):
    post_message(sandbox_server)

    assert sandbox_server.http.delete(f"{sandbox_server.url}/_sandbox/messages").status_code == 204
    assert sandbox_server.messages() == []


def test_unknown_paths_answer_in_the_providers_error_format(sandbox_server):
    response = sandbox_server.http.get(f"{sandbox_server.url}/balance")

    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == 20
    assert requests.get(f"{sandbox_server.url}/_sandbox/health", timeout=5).json() == {"ok": True}


def test_command_line_reads_arguments_and_environment():
    env = {"SANDBOX_ACCESS_KEY": "env-key", "SANDBOX_SIGNING_KEY": "env-signing", "SANDBOX_PORT": "9001"}

    args = parse_args([], environ=env)
    assert (args.host, args.port, args.access_key, args.signing_key) == ("127.0.0.1", 9001, "env-key", "env-signing")
    args = parse_args(["--port", "9002", "--access-key", "cli-key"], environ=env)
    assert (args.port, args.access_key) == (9002, "cli-key")
    with pytest.raises(SystemExit):
        parse_args([], environ={})


def test_messages_are_listed_by_the_documented_filters_and_paged(sandbox_server):
    for n, recipient in enumerate(["4917011111111", "4917022222222", "4917011111111", "4917011111111"]):
        assert post_message(sandbox_server, recipients=[recipient], reference=f"r-{n}").status_code == 201
    url = f"{sandbox_server.url}/messages"

    page = sandbox_server.http.get(url, params={"recipient": "+4917011111111", "limit": 2}, timeout=5).json()

    assert set(page) == {"offset", "limit", "count", "totalCount", "links", "items"}
    assert (page["offset"], page["limit"], page["count"], page["totalCount"]) == (0, 2, 2, 3)
    assert [item["reference"] for item in page["items"]] == ["r-3", "r-2"]  # newest first
    rest = sandbox_server.http.get(page["links"]["next"], params={"recipient": "4917011111111"}, timeout=5).json()
    assert [item["reference"] for item in rest["items"]] == ["r-0"] and rest["links"]["next"] is None
    later = sandbox_server.http.get(url, params={"from": "2999-01-01T00:00:00+00:00"}, timeout=5).json()
    assert later["totalCount"] == 0
    refused = sandbox_server.http.get(url, params={"until": "yesterday"}, timeout=5)
    assert refused.status_code == 422 and refused.json()["errors"][0]["parameter"] == "until"


def test_faults_of_single_recipients(sandbox_server):
    sandbox_server.set_faults(recipient_statuses={"+4917000000001": 503}, slow_recipients={"4917000000002": 0.5})

    assert post_message(sandbox_server, recipients=["4917000000001"]).status_code == 503
    slow = {"originator": "Praxis", "recipients": ["4917000000002"], "body": "Termin morgen 10:00"}
    with pytest.raises(requests.ReadTimeout):  # accepted all the same
        sandbox_server.http.post(f"{sandbox_server.url}/messages", json=slow, timeout=0.2)
    assert post_message(sandbox_server, recipients=["4917000000003"]).status_code == 201
    recipients = [item["message"]["recipients"]["items"][0]["recipient"] for item in sandbox_server.messages()]
    assert 4917000000001 not in recipients and {4917000000002, 4917000000003} <= set(recipients)
