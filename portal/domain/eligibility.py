"""Whether a reminder may be sent, and if not, why: one rule for planning and sending.

`skip_reason` checks the facts in a fixed order and returns the first reason
that applies, so the same situation always shows the same reason:

1. patient_erased         the patient's personal data were erased
2. appointment_cancelled  the appointment was cancelled
3. no_licence             the practice holds no active licence
4. sms_disabled           SMS reminders are switched off for the practice
5. appointment_opt_out    the appointment's own "SMS reminder" tick is off
6. no_consent             the patient has not consented to SMS
7. missing_mobile / invalid_mobile   no usable mobile number
8. quota_exceeded         the monthly quota is used up (the sender knows this)

Practice-wide reasons come before the appointment's and the patient's, so a
practice without licence does not fill its lists with per-patient problems;
the number is only a problem for a patient who consented.
"""
from dataclasses import dataclass

# Reasons that end a plan for good (the reminder is cancelled, not skipped).
# change_undone: a pending change notice whose move or cancellation was taken back.
CANCEL_REASONS = ("patient_erased", "appointment_cancelled", "appointment_moved", "consent_withdrawn",
                  "change_undone")
MOBILE_PROBLEMS = ("missing_mobile", "invalid_mobile")


@dataclass(frozen=True)
class ReminderFacts:
    licence_active: bool
    sms_enabled: bool
    sms_consent: bool
    mobile_problem: str | None  # None, "missing_mobile" or "invalid_mobile"
    sms_reminder: bool  # the appointment's tick
    appointment_cancelled: bool
    patient_erased: bool
    quota_exceeded: bool = False

    def __post_init__(self):
        if self.mobile_problem not in (None, *MOBILE_PROBLEMS):
            raise ValueError(f"unknown mobile problem {self.mobile_problem!r}")


def skip_reason(facts: ReminderFacts) -> str | None:
    """The reason code why no reminder may be sent, or None when it may."""
    checks = (
        (facts.patient_erased, "patient_erased"),
        (facts.appointment_cancelled, "appointment_cancelled"),
        (not facts.licence_active, "no_licence"),
        (not facts.sms_enabled, "sms_disabled"),
        (not facts.sms_reminder, "appointment_opt_out"),
        (not facts.sms_consent, "no_consent"),
        (facts.mobile_problem is not None, facts.mobile_problem),
        (facts.quota_exceeded, "quota_exceeded"),
    )
    for applies, reason in checks:
        if applies:
            return reason
    return None


def status_for(reason: str) -> str:
    """The reminder status a reason leads to: cancelled for final reasons, else skipped."""
    return "cancelled" if reason in CANCEL_REASONS else "skipped"
