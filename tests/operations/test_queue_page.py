"""The vendor's queue page: queues, workers, a failed job with its error, and retrying it."""
import pytest
import redis
from rq import Queue, SimpleWorker

from ..web.conftest import login


@pytest.fixture
def failed_job(app, redis_url):
    connection = redis.Redis.from_url(redis_url)
    connection.flushdb()
    job = Queue("maintenance", connection=connection).enqueue("builtins.int", "not a number", job_id="broken-1")
    SimpleWorker([Queue("maintenance", connection=connection)], connection=connection).work(burst=True)
    assert job.get_status(refresh=True) == "failed"
    yield job
    connection.flushdb()


def logged_in(app, make, role):
    client = app.test_client()
    user = make.user(role, group=make.group() if role == "group_admin" else None)
    assert login(client, user.email).status_code == 302
    return client


def test_a_vendor_admin_sees_the_failed_job_with_its_error_and_retries_it(app, make, failed_job, redis_url):
    client = logged_in(app, make, "vendor_admin")
    page = client.get("/admin/queues")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "broken-1" in html and "ValueError: invalid literal for int()" in html
    assert "maintenance" in html and "dispatch" in html and "send" in html

    retried = client.post("/admin/queues/failed/broken-1/retry")
    assert retried.status_code == 302
    maintenance = Queue("maintenance", connection=redis.Redis.from_url(redis_url))
    assert maintenance.job_ids == ["broken-1"] and maintenance.failed_job_registry.count == 0
    assert client.post("/admin/queues/failed/broken-1/retry").status_code == 404


@pytest.mark.parametrize("role", ["support", "group_admin"])
def test_only_vendor_admins_see_the_queues(app, make, failed_job, role):
    client = logged_in(app, make, role)
    assert client.get("/admin/queues").status_code == 403
    assert client.post("/admin/queues/failed/broken-1/retry").status_code == 403


def test_without_redis_the_page_says_so(app, make, monkeypatch):
    client = logged_in(app, make, "vendor_admin")
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:1/0")
    page = client.get("/admin/queues", headers={"Accept-Language": "en"})
    assert page.status_code == 200 and "Redis cannot be reached" in page.get_data(as_text=True)
