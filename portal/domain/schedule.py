"""When a reminder is due: a pure function of appointment start, policy and now.

- day_before: the local day before the appointment's local date at send_time, in
  the practice time zone. A send_time skipped by spring-forward moves to the first
  existing minute after the gap; on fall-back day an ambiguous time is the first one.
- hours_before: start minus N real (elapsed) hours, whatever the wall clock does.
- Then the due time is at most start - min_lead; inside quiet hours, the local
  interval [quiet_start, quiet_end) that may cross midnight (equal: none), it moves
  earlier to one minute before that quiet interval began.
- A due time already past (late sync) is now, if now is outside quiet hours and
  still no later than start - min_lead; during quiet hours it is their end, if that
  is still early enough. Otherwise the reminder is too late (due_at None).
- All arithmetic is on UTC instants; due_at is UTC; nothing here reads a clock.
"""
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

SEND_POLICIES = ("day_before", "hours_before")
_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_MINUTE = timedelta(minutes=1)


@dataclass(frozen=True)
class SendPolicy:
    send_policy: str
    send_time: time
    hours_before: int
    quiet_start: time
    quiet_end: time
    min_lead_minutes: int
    timezone: str


@dataclass(frozen=True)
class DueTime:
    due_at: datetime | None
    too_late: bool
    note: str


def due_time(start: datetime, policy: SendPolicy, now: datetime) -> DueTime:
    """The UTC due time of the reminder for an appointment starting at `start`."""
    if start.tzinfo is None or now.tzinfo is None:
        raise ValueError("start and now must carry a time zone")
    tz = ZoneInfo(policy.timezone)
    # Arithmetic on aware datetimes in one zone is wall-clock arithmetic: use UTC.
    start, now = start.astimezone(timezone.utc), now.astimezone(timezone.utc)
    latest = start - timedelta(minutes=policy.min_lead_minutes)
    due, notes = _policy_time(start, policy, tz), []
    if due > latest:
        due = latest
        notes.append("moved to the minimum lead time")
    moved = _before_quiet(due, policy, tz)
    if moved != due:
        due = moved
        notes.append("moved before quiet hours")
    if due >= now:
        return _planned(due, notes)
    return _late(now, latest, policy, tz)


def policy_from_settings(settings: Mapping[str, object]) -> SendPolicy:
    """A SendPolicy from effective settings with values such as "18:00"."""
    policy = str(settings["send_policy"])
    if policy not in SEND_POLICIES:
        raise ValueError(f"send_policy must be one of {', '.join(SEND_POLICIES)}")
    zone = str(settings["timezone"])
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"unknown time zone {zone!r}") from error
    return SendPolicy(
        send_policy=policy,
        send_time=parse_clock(settings["send_time"]),
        hours_before=int(settings["hours_before"]),
        quiet_start=parse_clock(settings["quiet_start"]),
        quiet_end=parse_clock(settings["quiet_end"]),
        min_lead_minutes=int(settings["min_lead_minutes"]),
        timezone=zone,
    )


def in_quiet_hours(moment: datetime, policy: SendPolicy) -> bool:
    """True when `moment` falls in the practice's quiet hours (local wall time)."""
    return _quiet_start_of(moment.astimezone(ZoneInfo(policy.timezone)), policy) is not None


def after_quiet_hours(moment: datetime, policy: SendPolicy) -> datetime:
    """`moment` itself outside quiet hours, else the first instant after the quiet hours it lies in (UTC)."""
    tz = ZoneInfo(policy.timezone)
    local = moment.astimezone(tz)
    if _quiet_start_of(local, policy) is None:
        return moment.astimezone(timezone.utc)
    return _after_quiet(local, policy, tz).astimezone(timezone.utc)


def _policy_time(start: datetime, policy: SendPolicy, tz: ZoneInfo) -> datetime:
    """The due time the policy asks for, before lead time and quiet hours."""
    if policy.send_policy == "hours_before":
        return start - timedelta(hours=policy.hours_before)
    if policy.send_policy == "day_before":
        day = start.astimezone(tz).date() - timedelta(days=1)
        return _local(day, policy.send_time, tz)
    raise ValueError(f"unknown send_policy {policy.send_policy!r}")


def _local(day: date, clock: time, tz: ZoneInfo) -> datetime:
    """Wall time `clock` on `day`: a skipped time moves past the gap, an ambiguous one is the first."""
    wall = datetime.combine(day, clock)
    aware = wall.replace(tzinfo=tz, fold=0)  # fold=0: the first of two occurrences
    if _wall(aware, tz) == wall:
        return aware
    # In a spring-forward gap: walk from before the gap to the first minute that exists.
    moment = wall.replace(tzinfo=tz, fold=1).astimezone(timezone.utc)
    while _wall(moment, tz) < wall:
        moment += _MINUTE
    return moment.astimezone(tz)


def _wall(moment: datetime, tz: ZoneInfo) -> datetime:
    """The local wall-clock reading of an instant, without its zone."""
    return moment.astimezone(timezone.utc).astimezone(tz).replace(tzinfo=None)


def _quiet_start_of(local: datetime, policy: SendPolicy) -> datetime | None:
    """The local start of the quiet interval containing `local`, or None outside quiet hours."""
    begin, end, clock = policy.quiet_start, policy.quiet_end, local.time()
    if begin == end:
        return None
    if begin < end:
        inside, day = begin <= clock < end, local.date()
    else:  # crosses midnight: the interval began yesterday when we are past midnight
        inside = clock >= begin or clock < end
        day = local.date() if clock >= begin else local.date() - timedelta(days=1)
    return _local(day, begin, local.tzinfo) if inside else None


def _quiet_end_of(local: datetime, policy: SendPolicy) -> datetime:
    """The end of the quiet interval that `local` lies in."""
    begin, end, clock = policy.quiet_start, policy.quiet_end, local.time()
    crosses = begin > end and clock >= begin
    day = local.date() + timedelta(days=1) if crosses else local.date()
    return _local(day, end, local.tzinfo)


def _before_quiet(due: datetime, policy: SendPolicy, tz: ZoneInfo) -> datetime:
    """Move a due time inside quiet hours to the last minute before they begin."""
    for _ in range(3):  # once is enough, except around odd DST gaps
        begin = _quiet_start_of(due.astimezone(tz), policy)
        if begin is None:
            return due
        due = begin.astimezone(timezone.utc) - _MINUTE
    return due


def _after_quiet(local: datetime, policy: SendPolicy, tz: ZoneInfo) -> datetime:
    """The first instant after the quiet interval that `local` lies in, outside quiet hours.

    A spring-forward gap can swallow the whole window between two quiet intervals
    (quiet 02:15 to 02:00 on a day whose 02:00 to 03:00 does not exist): then the
    end of the next interval is the first free minute.
    """
    end = _quiet_end_of(local, policy)
    for _ in range(3):
        if _quiet_start_of(end.astimezone(tz), policy) is None:
            break
        end = _quiet_end_of(end.astimezone(tz), policy)
    return end


def _late(now: datetime, latest: datetime, policy: SendPolicy, tz: ZoneInfo) -> DueTime:
    """The due time has passed: send now, after quiet hours, or not at all."""
    if now > latest:
        return DueTime(None, True, "too late: less than the minimum lead time before the appointment")
    local_now = now.astimezone(tz)
    if _quiet_start_of(local_now, policy) is None:
        return _planned(now, ["due time passed: send at once"])
    end = _after_quiet(local_now, policy, tz)
    if end <= latest:
        return _planned(end, ["due time passed during quiet hours: send when they end"])
    return DueTime(None, True, "too late: quiet hours last until the minimum lead time")


def _planned(due: datetime, notes: list[str]) -> DueTime:
    return DueTime(due.astimezone(timezone.utc), False, "; ".join(notes) or "as the policy says")


def parse_clock(value: object) -> time:
    """A time of day from "HH:MM" text (as settings store it) or a time object.

    :raise ValueError: for anything else, e.g. "8:00" or "24:00".
    """
    if isinstance(value, time):
        return value
    match = _CLOCK.match(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"expected a time of day as HH:MM, got {value!r}")
    return time(int(match[1]), int(match[2]))
