"""POST /_sandbox/reply: a patient's reply forwarded as MessageBird forwards an inbound SMS, signed."""

from messagebird.request_validator import RequestValidator

from sandbox.__main__ import parse_args

from .test_sandbox import post_message


def reply(server, **data):
    return server.http.post(f"{server.url}/_sandbox/reply", json=data, timeout=5)


def test_a_reply_is_forwarded_signed_to_the_number_the_reminder_came_from(make_sandbox, receiver):
    server = make_sandbox(inbound_url=receiver.report_url)
    post_message(server, originator="+4915700000000", recipients=["4917012345678"])

    answer = reply(server, originator="+4917012345678", body="Ja, danke!")
    assert answer.status_code == 200 and answer.json()["response_status"] == 200
    forwarded = receiver.received(1)[0]
    assert forwarded["args"]["originator"] == "4917012345678"
    assert forwarded["args"]["recipient"] == "4915700000000"
    assert forwarded["args"]["body"] == "Ja, danke!"
    assert set(forwarded["args"]) == {"id", "originator", "recipient", "body", "createdDatetime"}
    claims = RequestValidator(server.signing_key).validate_signature(forwarded["jwt"], forwarded["url"], b"")
    assert claims["iss"] == "MessageBird"


def test_a_reply_to_a_sender_name_needs_a_recipient(make_sandbox, receiver):
    server = make_sandbox(inbound_url=receiver.report_url)
    post_message(server, originator="Praxis", recipients=["4917012345678"])
    refused = reply(server, originator="4917012345678", body="JA")
    assert refused.status_code == 400 and "recipient" in refused.json()["errors"][0]["description"]
    named = reply(server, originator="4917012345678", body="JA", recipient="+4915700000000")
    assert named.status_code == 200 and receiver.received(1)


def test_a_reply_without_an_inbound_url_or_number_is_refused(make_sandbox, receiver):
    server = make_sandbox()
    assert reply(server, originator="4917012345678", body="JA", recipient="4915700000000").status_code == 400
    given = reply(server, originator="4917012345678", body="JA", recipient="4915700000000", url=receiver.report_url)
    assert given.status_code == 200
    assert reply(server, originator="Erika", body="JA", url=receiver.report_url).status_code == 400
    assert reply(server, originator="4917012345678", body=["JA"], url=receiver.report_url).status_code == 400


def test_the_inbound_url_is_a_command_line_option():
    args = parse_args(["--access-key", "k", "--inbound-url", "http://localhost:5000/webhooks/messagebird/inbound"])
    assert args.inbound_url.endswith("/inbound")
    assert parse_args(["--access-key", "k"], environ={"SANDBOX_INBOUND_URL": "http://x/in"}).inbound_url == "http://x/in"
