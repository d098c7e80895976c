"""The portal served by werkzeug in a thread, driven by Debian's chromium through Playwright."""
import os
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from portal import create_app
from portal.extensions import db

from ..web.conftest import sent_reminder, tenants  # noqa: F401  (shared fixtures)

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
# As in the demo (bin/run): a reply number, so that a practice can switch replies on.
REPLY_NUMBER = "+4915799912345"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--lang=de-DE"]


@pytest.fixture(scope="session")
def live_server(app, database_url, redis_url):
    """The app with CSRF on (as in production) on 127.0.0.1, a free port; yields its base URL."""
    served = create_app({
        "TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "REDIS_URL": redis_url,
        "EMBEDDED_REDIS": False, "SECRET_KEY": "browser-secret", "WTF_CSRF_ENABLED": True,
        "RATELIMIT_ENABLED": False, "SESSION_COOKIE_SECURE": False, "MESSAGEBIRD_REPLY_NUMBER": REPLY_NUMBER,
    })
    server = make_server("127.0.0.1", 0, served, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    with served.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="de-DE")
    context.set_default_timeout(5000)
    yield context.new_page()
    context.close()


@pytest.fixture
def shot(tmp_path):
    """`shot(page, name)`: a full-page screenshot of every step.

    Kept in docs/screenshots/NAME.png with SCREENSHOTS=1 (for the README),
    else in the test's temporary folder, so a test run leaves the tree clean.
    """
    folder = SCREENSHOTS if os.environ.get("SCREENSHOTS") else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    return lambda page, name: page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
