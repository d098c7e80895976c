"""GET /api/v1/events: a practice's replies in order, paged by a cursor that concurrent writes cannot skip."""
import threading
from datetime import datetime, timezone

from sqlalchemy import text

from portal import replies
from portal.access import scoped_to_practice
from portal.extensions import db
from portal.models import Practice, Reply
from portal.models import utcnow
from portal.providers import InboundSms

from .conftest import NUMBER, inbound


def sms(message_id: str, body: str = "JA") -> InboundSms:
    return InboundSms(message_id=message_id, originator=NUMBER, recipient="4915712345678", body=body,
                      sent_at=datetime.now(timezone.utc))


def feed(program, after=0, **params):
    response = program.get("/events", query_string={"after": after, **params})
    assert response.status_code == 200, response.json
    return response.json


def test_the_feed_lists_what_patients_said_in_order_and_pages_by_cursor(webhook, api, make, remind):
    practice = make.licensed_practice()
    program = api(make.practice_key(practice))
    reminder = remind(practice)
    for n, body in enumerate(["Ja!", "Nein, leider nicht", "Wann war das nochmal?", "STOP", "ja"]):
        assert webhook.get(inbound(body, message_id=f"in-{n}")).status_code == 200
    first = feed(program, limit=2)
    assert [(event["cursor"], event["kind"], event["text"]) for event in first["events"]] == [
        (1, "confirmed", "Ja!"), (2, "cancellation_requested", "Nein, leider nicht")]
    assert first["events"][0]["appointment"] == reminder.appointment.external_id
    assert first["events"][0]["patient"] == reminder.appointment.patient.external_id
    second = feed(program, first["next"], limit=2)
    assert [event["kind"] for event in second["events"]] == ["unreadable_reply", "opted_out"]
    third = feed(program, second["next"], limit=2)
    assert [event["cursor"] for event in third["events"]] == [5] and third["next"] == 5
    assert feed(program, third["next"]) == {"events": [], "next": 5}


def test_the_feed_shows_only_the_own_practice(webhook, api, make, remind):
    own, foreign = make.licensed_practice(), make.licensed_practice()
    remind(foreign, mobile="0170 5550001")
    webhook.get(inbound("JA", originator="+491705550001"))
    assert feed(api(make.practice_key(own))) == {"events": [], "next": 0}
    assert len(feed(api(make.practice_key(foreign)))["events"]) == 1
    # not for personal tokens: the feed is the practice program's
    assert api(make.token(make.user("vendor_admin"))).get("/events").status_code == 403


def test_the_feed_refuses_a_cursor_or_limit_it_cannot_use(api, make):
    program = api(make.practice_key(make.licensed_practice()))
    for params, field in [({"after": -1}, "after"), ({"after": "abc"}, "after"), ({"after": 2**31}, "after"),
                          ({"limit": 0}, "limit"), ({"limit": 501}, "limit"), ({"cursor": 3}, "cursor")]:
        response = program.get("/events", query_string=params)
        assert response.status_code == 422, params
        assert field in [error["field"] for error in response.json["errors"]]


def read_feed(app, practice_id: int, after: int = 0) -> list[int]:
    """The cursors a reader sees now, in a session of its own (the API's read also records last-seen)."""
    with app.app_context():
        practice = db.session.get(Practice, practice_id)
        cursors = [reply.seq for reply, _, _ in replies.feed_page(scoped_to_practice(practice, Reply), after, 100)]
        db.session.remove()
        return cursors


def _waiting_for_the_feed_lock() -> bool:
    """Whether some transaction waits for a reply-feed lock (PostgreSQL's lock table)."""
    with db.engine.connect() as connection:
        return bool(connection.execute(text(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND classid = :space"
        ), {"space": replies.FEED_LOCK}).scalar())


def test_a_reply_committed_later_is_never_skipped_by_a_reader(app, api, make, remind):
    """Two transactions record replies of one practice at once; the one that began first commits last.

    With the primary key as cursor, the second would be seen first and the first skipped for good. Here
    the second waits for the first's feed number to be committed, and a reader in between misses nothing.
    """
    practice = make.licensed_practice()
    program = api(make.practice_key(practice))
    remind(practice)
    practice_id = practice.id
    db.session.remove()
    first_recorded, commit_first = threading.Event(), threading.Event()
    second_recorded, commit_second = threading.Event(), threading.Event()
    errors = []

    def record(message_id, recorded, commit):
        try:
            with app.app_context():
                replies.record_inbound(sms(message_id), utcnow())
                recorded.set()
                assert commit.wait(30)
                db.session.commit()
        except BaseException as exc:  # reported below
            errors.append(exc)
            recorded.set()

    first = threading.Thread(target=record, args=("in-first", first_recorded, commit_first))
    second = threading.Thread(target=record, args=("in-second", second_recorded, commit_second))
    first.start()
    assert first_recorded.wait(30)
    second.start()
    if db.engine.dialect.name == "postgresql":
        from tests.sending.conftest import wait_until

        wait_until(_waiting_for_the_feed_lock, message="the second transaction to wait for the feed lock")
        assert not second_recorded.is_set()
    assert read_feed(app, practice_id) == []  # neither is committed

    commit_first.set()
    first.join(30)
    assert second_recorded.wait(30)
    assert read_feed(app, practice_id) == [1]  # the second is recorded, not yet committed

    commit_second.set()
    second.join(30)
    assert not errors, errors
    assert read_feed(app, practice_id, after=1) == [2]
    assert [event["cursor"] for event in feed(program)["events"]] == [1, 2]
