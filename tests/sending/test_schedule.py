"""The periodic jobs: stable IDs per slot, so however many workers schedule, one is pending."""
import redis
from rq import Queue
from rq.registry import ScheduledJobRegistry

from jobs.schedule import BY_NAME, ensure_all, next_slot, schedule_next


def test_scheduling_twice_leaves_one_pending_job_per_periodic_job(app, redis_url):
    connection = redis.Redis.from_url(redis_url)
    connection.flushdb()
    config = dict(app.config, DISPATCH_INTERVAL_SECONDS=5)
    ensure_all(connection, config)
    ensure_all(connection, config)
    with app.app_context():
        schedule_next("dispatch", connection, config)

    dispatch = ScheduledJobRegistry(queue=Queue("dispatch", connection=connection)).get_job_ids()
    maintenance = ScheduledJobRegistry(queue=Queue("maintenance", connection=connection)).get_job_ids()
    assert len(dispatch) == 1 and dispatch[0].startswith("dispatch-")
    assert sorted(job_id.split("-")[0] for job_id in maintenance) == ["licences", "retention", "usage"]


def test_slots_follow_the_interval():
    config = {"DISPATCH_INTERVAL_SECONDS": 5}
    job_id, at = next_slot(BY_NAME["dispatch"], config, now=1000.0)
    assert (job_id, at.timestamp()) == ("dispatch-201", 1005.0)
    job_id, at = next_slot(BY_NAME["retention"], config, now=86400 * 10 + 3 * 3600)
    assert job_id == "retention-11" and at.timestamp() == 86400 * 11 + 3 * 3600


def test_licences_that_begin_or_end_are_re_planned_every_hour_at_five_past():
    licences = BY_NAME["licences"]
    assert licences.func == "jobs.licences.periodic_licence_replan" and licences.queue == "maintenance"
    job_id, at = next_slot(licences, {}, now=86400 * 10 + 23 * 3600 + 10 * 60)  # 23:10 UTC
    assert job_id == "licences-264" and at.timestamp() == 86400 * 11 + 5 * 60  # 00:05 UTC, 01:05 in Berlin


def test_the_periodic_dispatch_runs_in_a_worker_and_schedules_the_next(sending, due, app, monkeypatch):
    from rq import SimpleWorker

    from jobs.dispatch import periodic_dispatch

    [reminder_id] = due(1)
    queue = Queue("dispatch", connection=sending.connection)
    queue.enqueue(periodic_dispatch, job_id="dispatch-now")
    with app.app_context():
        SimpleWorker([queue, Queue("send", connection=sending.connection)],
                     connection=sending.connection).work(burst=True)

    assert sending.reminder(reminder_id).status == "submitted"
    scheduled = ScheduledJobRegistry(queue=queue).get_job_ids()
    assert len(scheduled) == 1 and scheduled[0].startswith("dispatch-")
