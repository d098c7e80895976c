"""All models, importable from one place."""
from .audit import AuditEntry
from .base import utcnow
from .delivery import DeliveryReport, WebhookNonce
from .people import ROLES, ApiToken, User
from .replies import InboundMessage, Reply
from .reminders import DELIVERY_STATUSES, REMINDER_KINDS, REMINDER_STATUSES, Reminder
from .schedule import CHANGE_SOURCES, Appointment, AppointmentEvent, Patient
from .tenants import LICENCE_STATUSES, Licence, Practice, PracticeApiKey, PracticeGroup
from .usage import USAGE_SERIES, UsageDay, UsageDelta

__all__ = [
    "AuditEntry", "utcnow", "DeliveryReport", "WebhookNonce", "ROLES", "ApiToken", "User",
    "DELIVERY_STATUSES", "REMINDER_KINDS", "REMINDER_STATUSES", "Reminder", "CHANGE_SOURCES", "Appointment",
    "AppointmentEvent", "Patient", "LICENCE_STATUSES", "Licence", "Practice", "PracticeApiKey",
    "PracticeGroup", "InboundMessage", "Reply", "USAGE_SERIES", "UsageDay", "UsageDelta",
]
