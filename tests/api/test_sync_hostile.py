"""/sync answers every operation whatever one of them holds: a hostile one gets its own
error result, the others are applied."""
import json

import pytest

from tests.hostile import HOSTILE_DATES, HOSTILE_TEXT


@pytest.fixture
def program(make, api):
    practice = make.licensed_practice(slug="am-markt", group=make.group("nord"))
    return api(make.practice_key(practice))


def _patient(first_name="Erika"):
    return {"first_name": first_name, "last_name": "Muster", "mobile": "0170 1234567", "sms_consent": True}


HOSTILE_OPERATIONS = {
    **{f"first_name_{label}": ({"op": "put_patient", "id": "p-bad", "data": _patient(value)}, "data.first_name")
       for label, value in HOSTILE_TEXT.items()},
    **{f"start_{label}": ({"op": "put_appointment", "id": "a-bad", "data": {"patient": "p-1", "start": value}},
                          "data.start") for label, value in HOSTILE_DATES.items()},
    "op_nul": ({"op": "put\x00patient", "id": "p-bad", "data": _patient()}, "op"),
    "id_surrogate": ({"op": "put_patient", "id": "p\ud800", "data": _patient()}, "id"),
    "key_nul": ({"op": "put_patient", "id": "p-bad", "data": {**_patient(), "x\x00": 1}}, "data.x\x00"),
}


@pytest.mark.parametrize("label", sorted(HOSTILE_OPERATIONS))
def test_one_hostile_operation_gets_its_own_error_and_the_others_apply(program, label):
    bad, field = HOSTILE_OPERATIONS[label]
    operations = [{"op": "put_patient", "id": "p-1", "data": _patient()}, bad,
                  {"op": "put_patient", "id": "p-2", "data": _patient("Hans")}]
    response = program.call("POST", "/sync", data=json.dumps({"operations": operations}),
                            headers={"Content-Type": "application/json"})
    assert response.status_code == 200, response.json
    results = response.json["results"]
    assert [result["status"] for result in results] == [200, 422, 200]
    assert field in [error["field"] for error in results[1]["errors"]], results[1]
    assert response.json["applied"] == 2 and response.json["failed"] == 1
    assert program.get("/appointments/a-bad").status_code == 404
    assert program.put("/patients/p-bad", json=_patient()).json["created"] is True


def test_an_operation_that_fails_unexpectedly_still_leaves_a_result_for_every_operation(program, monkeypatch):
    from portal import sync

    real = sync.put_patient

    def failing(practice, key, data, now):
        result = real(practice, key, data, now)
        if key == "p-boom":
            raise RuntimeError("the database went away mid-operation")
        return result

    monkeypatch.setattr(sync, "put_patient", failing)
    operations = [{"op": "put_patient", "id": key, "data": _patient()} for key in ("p-1", "p-boom", "p-2")]
    response = program.post("/sync", json={"operations": operations})
    assert response.status_code == 200
    assert [result["status"] for result in response.json["results"]] == [200, 500, 200]
    monkeypatch.setattr(sync, "put_patient", real)
    assert program.put("/patients/p-boom", json=_patient()).json["created"] is True
    assert program.put("/patients/p-2", json=_patient()).json["created"] is False
