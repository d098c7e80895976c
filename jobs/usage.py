"""The usage job: fold the appended usage changes into the daily totals, every minute.

Only for the size of usage_deltas: the usage page adds the unfolded changes itself, so its
figures do not wait for this job.
"""
from portal import usage

from .context import app_context


def periodic_usage_fold() -> None:
    """RQ job, every minute."""
    from .schedule import schedule_next

    with app_context():
        try:
            usage.fold()
        finally:
            schedule_next("usage")
