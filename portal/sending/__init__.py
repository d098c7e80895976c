"""Sending reminders, one module per concern:

- `state`: the reminder's state machine once the sender has it, the one writer of its status;
- `claims`: what the dispatcher claims, and lost work found again;
- `submission`: the send-time check, composing, and recording the provider's answer;
- `reports`: delivery reports and the delivery status;
- `quota`: the monthly quota.

`submission` is not imported here: it uses planning, which uses `state`.
"""
from .claims import Claim, claim_due, sweep_unknown_outcomes
from .quota import quota_usage, quota_warning
from .settings import setting
from .state import OUTCOME_UNKNOWN

__all__ = [
           "OUTCOME_UNKNOWN",
           "Claim",
           "claim_due",
           "quota_usage",
           "quota_warning",
           "setting",
           "sweep_unknown_outcomes",
]
