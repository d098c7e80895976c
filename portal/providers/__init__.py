"""The SMS provider behind one interface; the `SMS_PROVIDER` setting chooses the implementation.

An implementation (today only `messagebird`) holds everything that is the
provider's own: its SDK and endpoint, its error codes and which of them are
worth retrying, its delivery statuses, how its status reports are signed and
what they look like, and how to list the messages it holds. The rest of the
service speaks in the terms of this module. Plain Python: no Flask, no RQ.
"""
import importlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

NAMES = ("messagebird",)  # SMS_PROVIDER values, each a module of this package
_instances: dict = {}


@dataclass(frozen=True)
class OutgoingSms:
    originator: str  # sender name (at most 11 letters and digits) or a phone number
    recipient: str  # E.164, "+4917012345678"
    body: str
    reference: str  # our reminder ID; status reports carry it back
    report_url: str | None
    validity_seconds: int | None
    unicode: bool = False  # UCS-2 instead of GSM-7


@dataclass(frozen=True)
class Accepted:
    message_id: str
    created_at: datetime | None  # UTC, as the provider reports it


class ProviderError(Exception):
    """Base of the provider failures a send job handles."""


class TransientProviderError(ProviderError):
    """Worth retrying later; ``ambiguous`` if the provider may have accepted the message."""

    def __init__(self, text, *, ambiguous=False, retry_after=None, status=None):
        super().__init__(text)
        self.text = text
        self.ambiguous = ambiguous
        self.retry_after = retry_after  # seconds, from a Retry-After header
        self.status = status  # HTTP status, when there was an answer


class PermanentProviderError(ProviderError):
    """Refused by the provider; ``code`` is its error code as a string ("2", "9", "http_400")."""

    def __init__(self, code, description, parameter=None, *, status=None):
        where = f" (parameter {parameter})" if parameter else ""
        super().__init__(f"provider error {code}: {description}{where}")
        self.code = str(code)
        self.description = description
        self.parameter = parameter
        self.status = status


@dataclass(frozen=True)
class StatusReport:
    message_id: str
    reference: str | None
    recipient: str | None  # digits only
    status: str  # one of ours: scheduled, buffered, sent, delivered, delivery_failed, expired (else as sent)
    status_at: datetime
    status_reason: str | None
    status_error_code: str | None
    details: dict  # everything else the provider sent (mccmnc, price, ...)


@dataclass(frozen=True)
class InboundSms:
    """An SMS a patient sent to the reply number."""

    message_id: str
    originator: str  # E.164 when it is a phone number, else as the provider sent it
    recipient: str | None  # our number, digits only
    body: str  # may be empty: an empty SMS is a reply too
    sent_at: datetime  # UTC


@dataclass(frozen=True)
class Signature:
    jti: str  # unique per report: a second use is a replay
    expires_at: datetime


class ReportRefused(Exception):
    """A report (or an inbound SMS) whose signature does not hold; the text says why (for the log and the 401)."""


class ReportUnreadable(Exception):
    """A report lacks a field we need, or a field cannot be parsed."""


@dataclass(frozen=True)
class ListedMessage:
    """One message as the provider's message list shows it."""

    message_id: str
    reference: str | None


class SmsProvider(Protocol):
    """What the service asks of an SMS provider."""

    status_path: str  # where the provider sends status reports (below PUBLIC_BASE_URL)
    inbound_path: str  # where it forwards the SMS patients send to the reply number

    def submit(self, sms: OutgoingSms) -> Accepted:
        """:raise TransientProviderError: retry later (see ``ambiguous``).
        :raise PermanentProviderError: refused."""

    def verify_report(self, url: str, headers: Mapping, body: bytes) -> Signature:
        """:raise ReportRefused: not signed by the provider, or expired."""

    def parse_report(self, fields: Mapping) -> StatusReport:
        """:raise ReportUnreadable: a required field missing or malformed."""

    def parse_inbound(self, fields: Mapping) -> InboundSms:
        """An inbound SMS, signed like a status report (`verify_report`).

        :raise ReportUnreadable: a required field missing or malformed."""

    def list_messages(self, recipient: str, since: datetime, until: datetime) -> list[ListedMessage]:
        """Every message to `recipient` (E.164) created between `since` and `until`.

        :raise TransientProviderError: the provider could not be asked.
        """


def for_config(config: Mapping) -> SmsProvider:
    """The provider named by SMS_PROVIDER, one per process and settings: connections are reused."""
    module = _module(config)
    key = (os.getpid(), config["SMS_PROVIDER"], *module.settings_key(config))
    if key not in _instances:
        _instances[key] = module.from_config(config)
    return _instances[key]


def sending_disabled(config: Mapping) -> str | None:
    """Why the configured provider cannot send (a setting missing), or None."""
    return _module(config).sending_disabled(config)


def _module(config: Mapping):
    """The implementation's module: SMS_PROVIDER is checked against NAMES in portal.config."""
    return importlib.import_module(f"{__name__}.{config['SMS_PROVIDER']}")
