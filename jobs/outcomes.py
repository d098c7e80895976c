"""The periodic check of unknown outcomes: ask the provider (see `portal.sending.outcomes`)."""
import logging

from flask import current_app

from portal import providers
from portal.sending.outcomes import settle_unknown_outcomes

from .context import app_context

log = logging.getLogger(__name__)


def check_unknown_outcomes() -> dict:
    """One round: a count per result (found, resent, absent, unreachable)."""
    disabled = providers.sending_disabled(current_app.config)
    if disabled:
        return {}
    results = dict(settle_unknown_outcomes(providers.for_config(current_app.config)))
    if results:
        log.info("unknown outcomes checked with the provider: %s", results)
    return results


def periodic_outcome_check() -> dict:
    """RQ job, every minute."""
    from .schedule import schedule_next

    with app_context():
        try:
            return check_unknown_outcomes()
        finally:
            schedule_next("outcomes")
