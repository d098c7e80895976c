"""The practice program's story: an appointment synced three hours ahead with the
policy "24 hours before" (and no quiet hours) gets its SMS at once, and its delivery
shows in the API."""
from datetime import datetime, timedelta, timezone

from portal.extensions import db

from .conftest import wait_until


def test_an_appointment_synced_through_the_api_is_reminded_and_shows_delivered(sending, make, api):
    # Quiet hours off (start == end): the story is the pipeline, and it must hold at any time of
    # day; with the default 21:00-08:00 an appointment 3 hours ahead is "too late" at night.
    practice = make.licensed_practice(send_policy="hours_before", hours_before=24, quiet_start="00:00",
                                      quiet_end="00:00")
    program = api(make.practice_key(practice))
    start = (datetime.now(timezone.utc) + timedelta(hours=3)).replace(microsecond=0)

    assert program.put("/patients/p-1", json={"first_name": "Erika", "last_name": "Mustermann",
                                              "mobile": "0170 2345678", "sms_consent": True}).status_code in (200, 201)
    synced = program.put("/appointments/a-1", json={"patient": "p-1", "start": start.isoformat()})
    assert synced.status_code in (200, 201), synced.json
    assert synced.json["reminder"]["status"] == "planned"

    sending.settle()

    def delivered():
        db.session.expire_all()
        reminder = program.get("/appointments/a-1").json["reminder"]
        return reminder if reminder["delivery_status"] == "delivered" else None

    reminder = wait_until(delivered, message="delivered in the API")
    assert reminder["status"] == "submitted" and reminder["recipient"] == "+491702345678"
    assert "Mustermann" in reminder["body"] and reminder["delivered_at"] and reminder["submitted_at"]
