"""A client generated from the document, as the vendor's and the practice-software
teams generate theirs (openapi-python-client, default settings), works against
the service over real HTTP: one whole flow from a new group to the lookup."""
import importlib
import json
import os
import subprocess
import sys
import threading
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from portal.extensions import db

BIN = Path(sys.executable).parent


@pytest.fixture(scope="session")
def generated(app, tmp_path_factory):
    """The generated client package, made once per test session from the served document."""
    folder = tmp_path_factory.mktemp("client")
    (folder / "openapi.json").write_text(json.dumps(app.test_client().get("/api/v1/openapi.json").json))
    # The generator formats its output with ruff, which it finds on PATH.
    environment = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    run = subprocess.run([str(BIN / "openapi-python-client"), "generate", "--path", "openapi.json"],
                         cwd=folder, env=environment, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Warning" not in run.stdout, run.stdout
    (project,) = [path for path in folder.iterdir() if path.is_dir()]
    sys.path.insert(0, str(project))
    yield importlib.import_module("praxis_sms_reminders_api_client")
    sys.path.remove(str(project))


@pytest.fixture(scope="session")
def served(app):
    """The test app on 127.0.0.1 at a free port; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def module(client, name: str):
    return importlib.import_module(f"{client.__name__}.{name}")


def test_a_generated_client_runs_the_whole_flow(generated, served, make):
    m = module(generated, "models")
    calls = {name: module(generated, f"api.{tag}.{name}") for tag, names in {
        "administration": ("create_group", "create_practice", "put_licence", "create_api_key", "revoke_api_key",
                           "list_api_keys", "patch_practice_settings"),
        "practice_program": ("put_patient", "put_appointment", "get_appointment", "post_sync"),
        "support": ("lookup",),
    }.items() for name in names}
    vendor = generated.AuthenticatedClient(base_url=served, token=make.token(make.user("vendor_admin")))
    db.session.remove()

    group = calls["create_group"].sync(client=vendor, body=m.GroupIn(slug="nord", name="Praxen Nord"))
    assert isinstance(group, m.GroupOut) and group.practices == []
    practice = calls["create_practice"].sync(client=vendor, body=m.PracticeIn(
        slug="am-markt", name="Physiotherapie am Markt", group="nord", timezone=m.TimeZone.EUROPEBERLIN))
    assert isinstance(practice, m.PracticeOut) and practice.timezone == "Europe/Berlin"
    licence = calls["put_licence"].sync("am-markt", client=vendor, body=m.LicenceIn(
        status=m.LicenceStatus.ACTIVE, valid_from=date.today() - timedelta(days=1), monthly_quota=100))
    assert licence.status is m.LicenceStatus.ACTIVE and licence.active is True
    switched = calls["patch_practice_settings"].sync("am-markt", client=vendor,
                                                     body=m.PracticeSettingsIn(sms_enabled=True))
    assert switched.settings["sms_enabled"].value is True
    created = calls["create_api_key"].sync("am-markt", client=vendor, body=m.ApiKeyIn(label="Empfang"))
    assert created.key.startswith("pk_") and isinstance(created.id, int)

    program = generated.AuthenticatedClient(base_url=served, token=created.key)
    patient = calls["put_patient"].sync("p-1", client=program, body=m.PatientIn(
        first_name="Erika", last_name="Mustermann", mobile="0170 1234567", sms_consent=True))
    assert isinstance(patient, m.PatientOut) and patient.created is True and patient.mobile == "+491701234567"
    start = (datetime.now(timezone.utc) + timedelta(days=3)).replace(hour=9, minute=0, second=0, microsecond=0)
    appointment = calls["put_appointment"].sync("t-1", client=program, body=m.AppointmentIn(
        patient="p-1", start=start, change_source=m.ChangeSource.DIALOG))
    assert isinstance(appointment, m.AppointmentOut) and appointment.created is True

    read = calls["get_appointment"].sync("t-1", client=program)
    assert read.start == start and read.reminder.status is m.ReminderStatus.PLANNED
    assert read.reminder.due_at < start

    synced = calls["post_sync"].sync(client=program, body=m.SyncIn(operations=[
        m.PutPatient(op="put_patient", id="p-2", data=m.PatientIn(first_name="Max", last_name="Muster",
                                                                    sms_consent=False)),
        m.DeleteAppointment(op="delete_appointment", id="t-unknown"),
    ]))
    assert (synced.applied, synced.failed) == (1, 1)
    assert isinstance(synced.results[0].result, m.PatientOut) and synced.results[0].result.id == "p-2"
    assert synced.results[1].status == 404 and synced.results[1].result is None

    found = calls["lookup"].sync(client=vendor, appointment="t-1")
    (item,) = found.appointments
    assert item.external_id == "t-1" and item.patient.last_name == "Mustermann"
    assert item.reminders[0].status is m.ReminderStatus.PLANNED
    assert item.timeline[0].kind is m.EventKind.CREATED and item.timeline[0].change_source is m.ChangeSource.DIALOG

    refused = calls["put_licence"].sync_detailed("am-markt", client=program, body=m.LicenceIn(
        status=m.LicenceStatus.REVOKED, valid_from=date.today()))
    assert refused.status_code == 403 and isinstance(refused.parsed, m.Problem)
    calls["revoke_api_key"].sync("am-markt", created.id, client=vendor)
    assert calls["list_api_keys"].sync("am-markt", client=vendor).api_keys[0].revoked_at is not None
    assert calls["get_appointment"].sync_detailed("t-1", client=program).status_code == 401
