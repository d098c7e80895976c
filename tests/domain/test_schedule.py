"""Due times: send policies, daylight saving in Berlin, quiet hours, late syncs."""
from dataclasses import replace
from datetime import datetime, time, timedelta, timezone

import pytest
from hypothesis import given, settings, strategies as st
from zoneinfo import ZoneInfo

from portal.domain.schedule import SendPolicy, due_time, in_quiet_hours, policy_from_settings

BERLIN = ZoneInfo("Europe/Berlin")
UTC = timezone.utc
LONG_AGO = datetime(2026, 1, 1, tzinfo=UTC)
DEFAULTS = {"send_policy": "day_before", "send_time": "18:00", "hours_before": 24, "quiet_start": "21:00",
            "quiet_end": "08:00", "min_lead_minutes": 60, "timezone": "Europe/Berlin"}


def policy(**changes) -> SendPolicy:
    """The default policy (day before at 18:00, quiet 21:00-08:00, 60 min lead) with changes."""
    return policy_from_settings(DEFAULTS | changes)


def berlin(*args) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_policy_from_settings_reads_clock_strings():
    assert policy() == SendPolicy("day_before", time(18), 24, time(21), time(8), 60, "Europe/Berlin")


@pytest.mark.parametrize("bad", [{"send_policy": "weekly"}, {"send_time": "18h"}, {"timezone": "Mars/Olympus"}])
def test_policy_from_settings_refuses_nonsense(bad):
    with pytest.raises(ValueError):
        policy(**bad)


@pytest.mark.parametrize("start, changes, due", [
    # Spring forward, Sunday 29 March 2026: 02:00-03:00 does not exist.
    (berlin(2026, 3, 30, 10), {"send_time": "02:30", "quiet_end": "21:00"}, utc(2026, 3, 29, 1, 0)),   # 03:00 CEST
    (berlin(2026, 3, 30, 10), {}, utc(2026, 3, 29, 16, 0)),                                              # 18:00 CEST
    (berlin(2026, 3, 29, 10), {}, utc(2026, 3, 28, 17, 0)),                                              # 18:00 CET
    (berlin(2026, 3, 29, 12), {"send_policy": "hours_before"}, utc(2026, 3, 28, 10, 0)),                # 11:00 CET
    # Fall back, Sunday 25 October 2026: 02:00-03:00 happens twice.
    (berlin(2026, 10, 26, 10), {"send_time": "02:30", "quiet_end": "21:00"}, utc(2026, 10, 25, 0, 30)), # first 02:30
    (berlin(2026, 10, 26, 10), {}, utc(2026, 10, 25, 17, 0)),                                            # 18:00 CET
    (berlin(2026, 10, 25, 10), {}, utc(2026, 10, 24, 16, 0)),                                            # 18:00 CEST
    (berlin(2026, 10, 25, 12), {"send_policy": "hours_before"}, utc(2026, 10, 24, 11, 0)),              # 13:00 CEST
    # 02:30 is inside the default quiet hours: the evening before, 20:59 CET.
    (berlin(2026, 3, 30, 10), {"send_time": "02:30"}, utc(2026, 3, 28, 19, 59)),
])
def test_due_time_across_daylight_saving(start, changes, due):
    result = due_time(start, policy(**changes), LONG_AGO)
    assert result.due_at == due
    assert not result.too_late


@pytest.mark.parametrize("start, changes, due_local", [
    # Due 21:00 is the first quiet minute: one minute earlier.
    (berlin(2026, 11, 26, 9), {"send_policy": "hours_before", "hours_before": 12}, berlin(2026, 11, 25, 20, 59)),
    (berlin(2026, 11, 26, 8, 30), {"send_policy": "hours_before", "hours_before": 12}, berlin(2026, 11, 25, 20, 30)),
    # Quiet hours crossing midnight: 04:00 moves back to the evening before.
    (berlin(2026, 11, 26, 7), {"send_policy": "hours_before", "hours_before": 3}, berlin(2026, 11, 25, 20, 59)),
    # Quiet hours within one day.
    (berlin(2026, 11, 26, 15), {"send_policy": "hours_before", "hours_before": 2, "quiet_start": "12:00",
                                "quiet_end": "14:00"}, berlin(2026, 11, 26, 11, 59)),
    # Quiet hours from 03:00 on spring-forward day: the minute before is 01:59 CET.
    (berlin(2026, 3, 29, 10), {"send_policy": "hours_before", "hours_before": 6, "quiet_start": "03:00"},
     berlin(2026, 3, 29, 1, 59)),
    # Equal start and end: no quiet hours at all.
    (berlin(2026, 11, 26, 7), {"send_policy": "hours_before", "hours_before": 3, "quiet_end": "21:00"},
     berlin(2026, 11, 26, 4)),
    # Day before at 18:00, untouched by quiet hours.
    (berlin(2026, 11, 26, 7), {}, berlin(2026, 11, 25, 18)),
])
def test_quiet_hours_move_the_due_time_earlier(start, changes, due_local):
    assert due_time(start, policy(**changes), LONG_AGO).due_at == due_local


@pytest.mark.parametrize("start, changes, due_local", [
    # One hour before, but at least two: 13:00.
    (berlin(2026, 11, 26, 15), {"send_policy": "hours_before", "hours_before": 1, "min_lead_minutes": 120},
     berlin(2026, 11, 26, 13)),
    # Clamped to 07:00, which is quiet: the evening before.
    (berlin(2026, 11, 26, 10), {"send_policy": "hours_before", "hours_before": 1, "min_lead_minutes": 180},
     berlin(2026, 11, 25, 20, 59)),
    # A 24-hour lead time beats the day-before slot: 00:30, not 18:00, the day before.
    (berlin(2026, 11, 26, 0, 30), {"quiet_end": "21:00", "min_lead_minutes": 1440}, berlin(2026, 11, 25, 0, 30)),
])
def test_minimum_lead_time_clamps_the_due_time(start, changes, due_local):
    result = due_time(start, policy(**changes), LONG_AGO)
    assert result.due_at == due_local
    assert "lead time" in result.note


@pytest.mark.parametrize("now, start, changes, due_at, too_late", [
    # Synced at noon for 16:00 today: the 18:00-yesterday slot is gone, send at once.
    (berlin(2026, 11, 25, 12), berlin(2026, 11, 25, 16), {}, berlin(2026, 11, 25, 12), False),
    # Exactly the minimum lead time ahead: still sent at once.
    (berlin(2026, 11, 25, 15), berlin(2026, 11, 25, 16), {}, berlin(2026, 11, 25, 15), False),
    # Synced at 22:00 for 10:00 tomorrow: when quiet hours end at 08:00.
    (berlin(2026, 11, 25, 22), berlin(2026, 11, 26, 10), {}, berlin(2026, 11, 26, 8), False),
    # Synced at 02:00 (after midnight, still quiet) for 10:00 today.
    (berlin(2026, 11, 26, 2), berlin(2026, 11, 26, 10), {}, berlin(2026, 11, 26, 8), False),
    # Synced at 22:00 for 08:30 tomorrow: 08:00 is less than an hour ahead.
    (berlin(2026, 11, 25, 22), berlin(2026, 11, 26, 8, 30), {}, None, True),
    # Half an hour ahead, an hour required.
    (berlin(2026, 11, 25, 15, 30), berlin(2026, 11, 25, 16), {}, None, True),
    # Appointment already over.
    (berlin(2026, 11, 25, 17), berlin(2026, 11, 25, 16), {}, None, True),
    # Spring forward swallows the only free window (02:00 to 02:15, quiet the rest of the day):
    # not 03:00, which is quiet again, but the next window, which is after the appointment.
    (berlin(2026, 3, 29, 1, 30), berlin(2026, 3, 29, 12), {"quiet_start": "02:15", "quiet_end": "02:00"},
     None, True),
    # hours_before: 24 hours ahead is past, 3 hours ahead is not.
    (berlin(2026, 11, 25, 13), berlin(2026, 11, 25, 16), {"send_policy": "hours_before"},
     berlin(2026, 11, 25, 13), False),
])
def test_late_sync(now, start, changes, due_at, too_late):
    result = due_time(start, policy(**changes), now)
    assert (result.due_at, result.too_late) == (due_at, too_late)


def test_due_at_is_utc():
    result = due_time(berlin(2026, 11, 26, 10), policy(), LONG_AGO)
    assert result.due_at.tzinfo is UTC
    assert result.due_at == utc(2026, 11, 25, 17)


def test_naive_times_are_refused():
    with pytest.raises(ValueError):
        due_time(datetime(2026, 11, 26, 10), policy(), LONG_AGO)


# --- properties --------------------------------------------------------------------

ZONES = ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe"]
clocks = st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 59]))
policies = st.builds(
    SendPolicy, st.sampled_from(["day_before", "hours_before"]), clocks, st.integers(1, 72),
    clocks, clocks, st.integers(0, 600), st.sampled_from(ZONES))
# 2026 with the DST days well represented.
instants = st.one_of(
    st.datetimes(datetime(2026, 1, 1), datetime(2026, 12, 31), timezones=st.just(UTC)),
    st.sampled_from([utc(2026, 3, 29), utc(2026, 10, 25), utc(2026, 3, 8, 7), utc(2026, 11, 1, 6)])
    .flatmap(lambda day: st.integers(-3000, 3000).map(lambda m: day + timedelta(minutes=m))),
)


@settings(max_examples=300, deadline=None)
@given(policies, instants, st.integers(0, 14 * 24 * 60))
def test_due_time_properties(send_policy, now, ahead_minutes):
    start_utc = now + timedelta(minutes=ahead_minutes)
    local = ZoneInfo(send_policy.timezone)
    # Callers pass local times; the answer must not depend on that.
    result = due_time(start_utc.astimezone(local), send_policy, now.astimezone(local))
    assert result == due_time(start_utc, send_policy, now)
    if result.too_late:
        assert result.due_at is None
        return
    latest = start_utc - timedelta(minutes=send_policy.min_lead_minutes)
    assert now <= result.due_at <= latest
    assert not in_quiet_hours(result.due_at, send_policy)


def test_same_input_same_answer():
    p = replace(policy(), send_time=time(2, 30))
    assert due_time(berlin(2026, 3, 30, 10), p, LONG_AGO) == due_time(berlin(2026, 3, 30, 10), p, LONG_AGO)
