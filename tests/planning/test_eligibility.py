"""The skip rule: which reason a practice sees, in which order."""
import pytest

from portal.domain.eligibility import ReminderFacts, skip_reason, status_for

ELIGIBLE = dict(licence_active=True, sms_enabled=True, sms_consent=True, mobile_problem=None, sms_reminder=True,
                appointment_cancelled=False, patient_erased=False)


def facts(**changes) -> ReminderFacts:
    return ReminderFacts(**{**ELIGIBLE, **changes})


def test_an_eligible_reminder_has_no_reason():
    assert skip_reason(facts()) is None


@pytest.mark.parametrize("changes, reason", [
    ({"licence_active": False}, "no_licence"),
    ({"sms_enabled": False}, "sms_disabled"),
    ({"sms_consent": False}, "no_consent"),
    ({"mobile_problem": "missing_mobile"}, "missing_mobile"),
    ({"mobile_problem": "invalid_mobile"}, "invalid_mobile"),
    ({"sms_reminder": False}, "appointment_opt_out"),
    ({"appointment_cancelled": True}, "appointment_cancelled"),
    ({"patient_erased": True}, "patient_erased"),
    ({"quota_exceeded": True}, "quota_exceeded"),
])
def test_each_fact_alone_gives_its_reason(changes, reason):
    assert skip_reason(facts(**changes)) == reason


def test_the_precedence_is_fixed():
    everything_wrong = facts(licence_active=False, sms_enabled=False, sms_consent=False,
                             mobile_problem="invalid_mobile", sms_reminder=False, appointment_cancelled=True,
                             patient_erased=True, quota_exceeded=True)
    order = ["patient_erased", "appointment_cancelled", "no_licence", "sms_disabled", "appointment_opt_out",
             "no_consent", "invalid_mobile", "quota_exceeded"]
    fixes = {"patient_erased": {"patient_erased": False}, "appointment_cancelled": {"appointment_cancelled": False},
             "no_licence": {"licence_active": True}, "sms_disabled": {"sms_enabled": True},
             "appointment_opt_out": {"sms_reminder": True}, "no_consent": {"sms_consent": True},
             "invalid_mobile": {"mobile_problem": None}, "quota_exceeded": {"quota_exceeded": False}}
    current = everything_wrong
    for expected in order:
        assert skip_reason(current) == expected
        current = ReminderFacts(**{**current.__dict__, **fixes[expected]})
    assert skip_reason(current) is None


def test_a_patient_without_consent_is_not_reported_for_a_missing_number():
    assert skip_reason(facts(sms_consent=False, mobile_problem="missing_mobile")) == "no_consent"


def test_an_unknown_mobile_problem_is_refused():
    with pytest.raises(ValueError):
        facts(mobile_problem="landline")


def test_final_reasons_cancel_the_others_skip():
    assert status_for("appointment_moved") == "cancelled"
    assert status_for("consent_withdrawn") == "cancelled"
    assert status_for("too_late") == "skipped"
    assert status_for("no_licence") == "skipped"
