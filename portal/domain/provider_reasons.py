"""What MessageBird's error codes and delivery-report reasons mean, and what support does next.

One table for the portal, the lookup API and the ticket summary. The provider
speaks English codes ("unknown subscriber", error 9); support needs a German
sentence and a next step. Every entry: language -> (meaning, next step).
Unknown codes are shown as the provider sent them, with a generic next step.
"""
from dataclasses import dataclass

from .reasons import language as language_of


@dataclass(frozen=True)
class Explanation:
    meaning: str
    next_step: str


_CALL = {"de": "Praxis bitten, den Patienten anzurufen.", "en": "Ask the practice to call the patient."}
_CHECK_NUMBER = {
    "de": "Praxis bitten, die Handynummer mit dem Patienten zu prüfen und im Praxisprogramm zu korrigieren.",
    "en": "Ask the practice to check the mobile number with the patient and correct it in the practice program.",
}
_CALL_OR_OPS = {"de": "Praxis bitten, den Patienten anzurufen; bei Häufung an den Betrieb weitergeben.",
                "en": "Ask the practice to call the patient; pass on to operations if it recurs."}
_VENDOR = {
    "de": "An den Betrieb (Hersteller) weitergeben; die Praxis kann nichts tun.",
    "en": "Pass on to the vendor's operations team; the practice cannot fix this.",
}


def _entry(de: str, en: str, step: dict[str, str]) -> dict[str, tuple[str, str]]:
    return {"de": (de, step["de"]), "en": (en, step["en"])}


# Answers of the REST API to a submission (`errors[].code`), plus our own codes for a call without answer.
SUBMISSION_ERRORS: dict[str, dict[str, tuple[str, str]]] = {
    "2": _entry("Anfrage nicht erlaubt (Zugangsschlüssel falsch)", "Request not allowed (wrong access key)", _VENDOR),
    "9": _entry("Empfänger ungültig oder Angabe fehlt: der Anbieter hat die SMS abgelehnt",
                "Recipient invalid or a parameter missing: the provider refused the SMS", _CHECK_NUMBER),
    "10": _entry("Ungültige Angabe (z. B. Absendername)", "Invalid parameter (e.g. the sender name)", _VENDOR),
    "20": _entry("Beim Anbieter nicht gefunden", "Not found at the provider", _VENDOR),
    "21": _entry("Fehlerhafte Anfrage", "Bad request", _VENDOR),
    "25": _entry("Guthaben beim SMS-Anbieter aufgebraucht", "Not enough balance at the provider", _VENDOR),
    "98": _entry("Schnittstelle des Anbieters nicht gefunden", "Provider API not found", _VENDOR),
    "99": _entry("Interner Fehler beim Anbieter", "Internal error at the provider", _VENDOR),
    "retries_exhausted": _entry(
        "Anbieter wiederholt nicht erreichbar; die SMS wurde nie angenommen",
        "Provider repeatedly unreachable; the SMS was never accepted",
        _CALL_OR_OPS),
    "outcome_unknown": _entry(
        "Keine Antwort des Anbieters; die SMS wurde vielleicht gesendet und nicht wiederholt, um keine zweite zu senden",
        "No answer from the provider; the SMS may have been sent and was not repeated, to avoid a second one",
        _CALL),
}

# `statusReason` of a delivery report.
DELIVERY_REASONS: dict[str, dict[str, tuple[str, str]]] = {
    "successfully delivered": _entry("Erfolgreich zugestellt", "Successfully delivered",
                                     {"de": "Nichts zu tun.", "en": "Nothing to do."}),
    "pending dlr": _entry("Vom Netz angenommen, Zustellbestätigung steht noch aus",
                          "Accepted by the network, waiting for the delivery confirmation",
                          {"de": "Abwarten; meist folgt die Bestätigung binnen Minuten.",
                           "en": "Wait; the confirmation usually follows within minutes."}),
    "dlr not received": _entry("Keine Zustellbestätigung vom Netz erhalten", "No delivery confirmation from the network",
                               _CALL),
    "unknown subscriber": _entry("Die Nummer ist nicht vergeben (unbekannter Teilnehmer)",
                                 "The number is not in use (unknown subscriber)", _CHECK_NUMBER),
    "unavailable subscriber": _entry("Handy ausgeschaltet oder lange nicht erreichbar",
                                     "Phone switched off or out of reach for too long", _CALL),
    "expired": _entry("Nicht rechtzeitig zugestellt (Handy bis zum Termin nicht erreichbar)",
                      "Not delivered in time (phone unreachable until the appointment)", _CALL),
    "opted out": _entry("Der Empfänger hat SMS dieses Absenders gesperrt", "The recipient blocked SMS from this sender",
                        _CALL),
    "received network error": _entry("Fehler im Mobilfunknetz", "Error in the mobile network", _CALL),
    "insufficient balance": _entry("Guthaben beim SMS-Anbieter aufgebraucht", "Not enough balance at the provider",
                                   _VENDOR),
    "carrier rejected": _entry("Vom Mobilfunkanbieter abgelehnt (z. B. Absendername gesperrt)",
                               "Rejected by the carrier (e.g. sender name blocked)", _VENDOR),
    "capacity limit reached": _entry("Netz überlastet", "Network capacity limit reached", _CALL),
    "generic delivery failure": _entry("Zustellung fehlgeschlagen, ohne nähere Angabe des Netzes",
                                       "Delivery failed; the network gave no details", _CALL),
}

# `statusErrorCode` of a delivery report (GSM network codes the provider passes on).
DELIVERY_ERROR_CODES: dict[str, dict[str, tuple[str, str]]] = {
    "1": DELIVERY_REASONS["unknown subscriber"],
    "5": _entry("Teilnehmer im Netz nicht bekannt", "Subscriber unidentified in the network", _CHECK_NUMBER),
    "6": DELIVERY_REASONS["unavailable subscriber"],
    "9": _entry("Nummer für SMS gesperrt (unzulässiger Teilnehmer)", "Number barred for SMS (illegal subscriber)",
                _CHECK_NUMBER),
    "11": _entry("Anschluss kann keine SMS empfangen (z. B. Festnetz)", "The line cannot receive SMS (e.g. landline)",
                 _CHECK_NUMBER),
    "13": _entry("Empfang gesperrt (z. B. Roaming oder Prepaid ohne Guthaben)",
                 "Reception barred (e.g. roaming, prepaid without credit)", _CALL),
    "27": DELIVERY_REASONS["unavailable subscriber"],
    "31": _entry("Handy besetzt", "Phone busy", _CALL),
    "34": DELIVERY_REASONS["received network error"],
    "36": _entry("SMS-Speicher des Handys voll", "The phone's SMS memory is full", _CALL),
}



def explain_submission_error(code: str | None, text: str | None, locale: str = "de") -> Explanation:
    """The meaning and next step for a refused or unanswered submission."""
    return _explain(SUBMISSION_ERRORS.get(str(code or "")), text or str(code or ""), locale)


def explain_delivery(reason: str | None, error_code: str | None, locale: str = "de") -> Explanation:
    """The meaning and next step for a delivery report; its error code wins over the reason text."""
    entry = DELIVERY_ERROR_CODES.get(str(error_code or "")) or DELIVERY_REASONS.get((reason or "").strip().lower())
    return _explain(entry, reason or str(error_code or ""), locale)


def _explain(entry: dict[str, tuple[str, str]] | None, raw: str, locale: str) -> Explanation:
    language = language_of(locale)
    if entry is None:
        return Explanation(raw, _CALL_OR_OPS[language])
    return Explanation(*entry[language])
