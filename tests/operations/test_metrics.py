"""/metrics after real planning and sending: what an operator's dashboard would show."""
from datetime import datetime, timedelta, timezone

from prometheus_client.parser import text_string_to_metric_families

from portal.extensions import db
from portal.models import Patient, Reminder

from ..sending.conftest import wait_until


def scrape(client, **headers) -> dict:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/plain"
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(response.get_data(as_text=True))
            for sample in family.samples}


def value(samples, name, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_follow_planning_and_sending(sending, make, api, client):
    practice = make.licensed_practice(send_policy="hours_before", hours_before=24, quiet_start="00:00",
                                      quiet_end="00:00")
    program = api(make.practice_key(practice))
    start = (datetime.now(timezone.utc) + timedelta(hours=3)).replace(microsecond=0)
    for n in (1, 2):
        program.put(f"/patients/p-{n}", json={"first_name": "Erika", "last_name": f"Muster{n}",
                                              "mobile": f"0170 23456{n}7", "sms_consent": True})
        assert program.put(f"/appointments/a-{n}", json={"patient": f"p-{n}", "start": start.isoformat()}
                           ).json["reminder"]["status"] == "planned"
    before = scrape(client)
    assert value(before, "praxis_reminders", status="planned") == 2
    assert value(before, "praxis_dispatch_lag_seconds") >= 0
    assert value(before, "praxis_rq_queue_jobs", queue="send") == 0

    assert sending.dispatch() == 2
    queued = scrape(client)
    assert value(queued, "praxis_reminders", status="queued") == 2
    assert value(queued, "praxis_rq_queue_jobs", queue="send") == 1  # one batch
    assert value(queued, "praxis_dispatch_lag_seconds") == 0

    sending.work()
    wait_until(lambda: value(scrape(client), "praxis_delivery_reports_total", result="recorded")
               >= value(before, "praxis_delivery_reports_total", result="recorded") + 4,
               message="two reports for each message")
    after = scrape(client)
    assert value(after, "praxis_reminders", status="submitted") == 2
    assert value(after, "praxis_reminders", status="planned") == 0
    assert value(after, "praxis_provider_calls_total", outcome="accepted") == \
        value(before, "praxis_provider_calls_total", outcome="accepted") + 2
    assert value(after, "praxis_provider_call_duration_seconds_count", outcome="accepted") >= 2
    assert value(after, "praxis_rq_queue_jobs", queue="send") == 0
    assert value(after, "praxis_outcome_unknown") == 0
    appointment_puts = sum(count for (name, labels), count in after.items()
                           if name == "praxis_http_requests_total" and ("method", "PUT") in labels
                           and "appointment" in dict(labels)["endpoint"])
    assert appointment_puts >= 2


def test_dispatch_lag_and_refusals(sending, due, client, caplog):
    [late] = due(1)
    with sending.app.app_context():
        db.session.get(Reminder, late).due_at = datetime.now(timezone.utc) - timedelta(minutes=10)
        db.session.commit()
    assert value(scrape(client), "praxis_dispatch_lag_seconds") >= 600
    refused_before = value(scrape(client), "praxis_provider_calls_total", outcome="refused")
    with sending.app.app_context():
        reminder = db.session.get(Reminder, late)
        recipient = db.session.get(Patient, reminder.appointment.patient_id).mobile_e164.lstrip("+")
        slug = reminder.practice.slug
    sending.sandbox.set_faults(reject_recipients=[recipient])
    sending.dispatch()
    sending.work()
    after = scrape(client)
    assert value(after, "praxis_provider_calls_total", outcome="refused") == refused_before + 1
    assert value(after, "praxis_reminders", status="failed") == 1
    assert value(after, "praxis_dispatch_lag_seconds") == 0
    # one line for the operator: reminder, practice, code; not the number
    assert f"reminder {late} of practice {slug}: refused by the provider (code 9); not resent" in caplog.text
    assert recipient[-7:] not in caplog.text


def test_a_retry_is_one_line_with_reminder_practice_and_code(sending, due, caplog):
    [reminder_id] = due(1)
    sending.sandbox.set_faults(status_sequence=[503])
    sending.dispatch()
    sending.work()
    with sending.app.app_context():
        slug = db.session.get(Reminder, reminder_id).practice.slug
    assert f"reminder {reminder_id} of practice {slug}: provider unavailable (code 503): retry later" in caplog.text
    assert any(record.message.startswith("dispatch cycle: 1 reminders claimed") for record in caplog.records)


def test_metrics_need_the_token_when_one_is_set(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "METRICS_TOKEN", "scrape-secret")
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert "praxis_reminders" in client.get("/metrics", headers={"Authorization": "Bearer scrape-secret"}
                                            ).get_data(as_text=True)


def test_the_usage_changes_not_folded_show_until_the_usage_job_folds_them(make, client):
    """An operator sees the usage job fall behind: the unfolded changes grow until it folds them."""
    from portal import usage

    practice = make.licensed_practice()
    now = datetime.now(timezone.utc)
    appointment = make.appointment(make.patient(practice), now + timedelta(days=1))
    make.reminder(appointment, status="submitted", submit_started_at=now, submitted_at=now)
    db.session.commit()
    assert value(scrape(client), "praxis_usage_changes_unfolded") == 1  # one practice, day and series
    usage.fold()
    assert value(scrape(client), "praxis_usage_changes_unfolded") == 0
