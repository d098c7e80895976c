"""portal.providers.messagebird against the sandbox over real HTTP: IDs on success, typed failures otherwise."""

import socket
import threading
from datetime import timezone

import messagebird
import pytest
from messagebird.client import USER_AGENT, ErrorException
from messagebird.http_client import HttpClient, ResponseFormat
from messagebird.request_validator import RequestValidator

from portal.providers.messagebird import (
    Accepted, PermanentProviderError, SessionHttpClient, Submission, TransientProviderError,
    _retry_after, make_client, submit,
)


def reminder(**overrides):
    fields = {
        "originator": "Praxis", "recipient": "+4917012345678",
        "body": "Erinnerung: Ihr Termin morgen um 10:00 Uhr.", "reference": "reminder-1",
        "report_url": None, "validity_seconds": 86400, "datacoding": "plain",
    }
    return Submission(**{**fields, **overrides})


@pytest.fixture
def provider(sandbox_server):
    client = make_client(sandbox_server.url, sandbox_server.access_key, timeout=(1, 2))
    yield client
    client.http_client.close()


def test_submit_returns_the_providers_message_id(sandbox_server, provider, receiver, wait_for):
    accepted = submit(provider, reminder(report_url=receiver.report_url, datacoding="unicode"))

    assert isinstance(accepted, Accepted)
    assert accepted.created_at.tzinfo is timezone.utc
    [record] = sandbox_server.messages()
    message = record["message"]
    assert message["id"] == accepted.message_id
    assert [i["recipient"] for i in message["recipients"]["items"]] == [4917012345678]
    assert (message["reference"], message["validity"], message["datacoding"]) == ("reminder-1", 86400, "unicode")
    assert record["reportUrl"] == receiver.report_url
    reports = wait_for(lambda: receiver.received(2))
    assert {r["args"]["id"] for r in reports} == {accepted.message_id}
    validator = RequestValidator(sandbox_server.signing_key)
    assert all(validator.validate_signature(r["jwt"], r["url"], r["body"]) for r in reports)


def test_the_same_submission_can_be_sent_twice(sandbox_server, provider):
    submission = reminder(report_url="http://localhost:5000/webhooks/messagebird/status")

    first, second = submit(provider, submission), submit(provider, submission)

    assert first.message_id != second.message_id
    assert submission.params() == {
        "reference": "reminder-1", "reportUrl": "http://localhost:5000/webhooks/messagebird/status",
        "validity": 86400, "datacoding": "plain",
    }


def test_wrong_access_key_is_permanent_with_code_2(sandbox_server):
    client = make_client(sandbox_server.url, "not-the-key")

    with pytest.raises(PermanentProviderError) as refused:
        submit(client, reminder())

    assert (refused.value.code, refused.value.parameter) == ("2", "access_key")
    assert refused.value.description == "Request not allowed (incorrect access_key)"
    client.http_client.close()


@pytest.mark.parametrize("recipient", ["+49O1701234567", "+49170"])
def test_invalid_recipient_is_permanent_with_code_9(provider, recipient):
    with pytest.raises(PermanentProviderError) as refused:
        submit(provider, reminder(recipient=recipient))

    assert (refused.value.code, refused.value.parameter) == ("9", "recipient")


def test_recipient_refused_by_the_provider(sandbox_server, provider):
    sandbox_server.set_faults(reject_recipients=["4917012345678"])

    with pytest.raises(PermanentProviderError) as refused:
        submit(provider, reminder())

    assert (refused.value.code, refused.value.parameter) == ("9", "recipient")


@pytest.mark.parametrize("status, ambiguous", [(500, False), (502, False), (503, False), (504, True)])
def test_server_errors_are_transient(sandbox_server, provider, status, ambiguous):
    sandbox_server.set_faults(status_sequence=[status])

    with pytest.raises(TransientProviderError) as failed:
        submit(provider, reminder())

    assert (failed.value.status, failed.value.ambiguous, failed.value.retry_after) == (status, ambiguous, None)
    assert sandbox_server.messages() == []
    assert submit(provider, reminder()).message_id  # the next call goes through


def test_rate_limit_is_transient_with_retry_after(sandbox_server, provider):
    sandbox_server.set_faults(status_sequence=[429], retry_after=7)

    with pytest.raises(TransientProviderError) as failed:
        submit(provider, reminder())

    assert (failed.value.status, failed.value.retry_after, failed.value.ambiguous) == (429, 7.0, False)


def test_other_client_errors_are_permanent(sandbox_server, provider):
    sandbox_server.set_faults(status_sequence=[400])

    with pytest.raises(PermanentProviderError) as refused:
        submit(provider, reminder())

    assert (refused.value.code, refused.value.status) == ("21", 400)


def test_read_timeout_after_accept_is_ambiguous(sandbox_server):
    sandbox_server.set_faults(delay_seconds=1.0, accept_then_delay=True)
    client = make_client(sandbox_server.url, sandbox_server.access_key, timeout=(1, 0.2))

    with pytest.raises(TransientProviderError) as failed:
        submit(client, reminder())

    assert failed.value.ambiguous is True
    assert [r["message"]["reference"] for r in sandbox_server.messages()] == ["reminder-1"]
    client.http_client.close()


def test_refused_connection_is_not_ambiguous():
    with socket.socket() as probe:  # a port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = make_client(f"http://127.0.0.1:{port}", "key", timeout=(0.5, 0.5))

    with pytest.raises(TransientProviderError) as failed:
        submit(client, reminder())

    assert failed.value.ambiguous is False
    client.http_client.close()


def test_connection_dropped_after_sending_is_ambiguous():
    listener = socket.create_server(("127.0.0.1", 0))

    def read_then_hang_up():
        connection, _ = listener.accept()
        with connection:
            connection.recv(65536)

    thread = threading.Thread(target=read_then_hang_up, daemon=True)
    thread.start()
    client = make_client(f"http://127.0.0.1:{listener.getsockname()[1]}", "key", timeout=(1, 2))

    with pytest.raises(TransientProviderError) as failed:
        submit(client, reminder())

    assert failed.value.ambiguous is True
    thread.join(2)
    listener.close()
    client.http_client.close()


def test_one_client_reuses_one_connection(sandbox_server, provider):
    for n in range(3):
        submit(provider, reminder(reference=f"reminder-{n}"))

    assert len({r["remote_port"] for r in sandbox_server.messages()}) == 1


def test_the_stock_sdk_client_opens_a_connection_per_call(sandbox_server):
    """The contrast that makes the test above meaningful."""
    key = sandbox_server.access_key
    client = messagebird.Client(key, http_client=HttpClient(sandbox_server.url, key, USER_AGENT))
    for n in range(3):
        submit(client, reminder(reference=f"reminder-{n}"))

    assert len({r["remote_port"] for r in sandbox_server.messages()}) == 3


def test_session_client_keeps_the_sdk_contract(sandbox_server, provider):
    http = provider.http_client
    message_id = submit(provider, reminder()).message_id

    assert '"message not found"' in http.request("messages/" + "0" * 32)  # 404 comes back as text
    assert http.request(f"messages/{message_id}", format=ResponseFormat.binary).startswith(b"{")
    assert provider.message(message_id).id == message_id
    assert http.request(f"messages/{message_id}", "DELETE") == ""
    with pytest.raises(ErrorException):
        provider.message(message_id)
    with pytest.raises(ValueError):
        http.request("messages", "HEAD")


def test_session_client_keeps_a_base_path():
    client = SessionHttpClient("https://proxy.example/messagebird", "key")

    assert client.endpoint == "https://proxy.example/messagebird/"
    client.close()


@pytest.mark.parametrize("header, seconds", [
    (None, None), ("12", 12.0), ("nonsense", None), ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),
])
def test_retry_after_header(header, seconds):
    assert _retry_after(header) == seconds
