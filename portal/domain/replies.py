"""What a patient's reply says, and which reminder it answers: plain rules, no Flask, no database.

Understanding (`understand`) is forgiving about form and strict about meaning:

- case, punctuation, emoji, repeated letters of "ja" ("jaa", "Jaaa!") and a
  greeting or "bitte" before the word do not matter;
- the first word that is not a greeting decides: "JA danke" confirms,
  "Nein, leider nicht" asks to cancel, "Stop bitte" opts out;
- a text that also holds a word of another answer ("Ja, aber ich muss
  absagen") is not guessed at: it is unreadable, for the practice to read;
- a yes followed by a negation ("Ja, leider nicht") is not a yes: unreadable;
- German words, and the English "yes", "ok", "stop" and "cancel" (patients
  write them, and STOP is the English word everywhere). Not "no": "no
  problem" means yes. Other languages are unreadable: the practice reads them.

Matching (`match`): a reply answers the most recent reminder that was
submitted to the number, per practice, within `REPLY_WINDOW`:

1. the candidates are, for each practice, its latest reminder submitted to
   that number in the window before the reply;
2. a patient can answer only an SMS that came from a number: when some
   reminders came from the number the reply was sent to, only those count
   (the others came from a sender name, or from a reply number since
   replaced);
3. when some candidates' appointments have not begun when the reply was
   sent, only those count (a reply is about a coming appointment);
4. one practice left: the reply is that practice's; more than one: it is
   ambiguous and recorded for each of them as a reply to read, and neither
   JA nor NEIN is applied anywhere (we never guess across practices that
   share a number);
5. STOP is not about one appointment but about the number: it applies to
   every practice that messaged the number in the window.
"""
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

CONFIRM, CANCEL, STOP, UNREADABLE = "confirm", "cancel_request", "stop", "unreadable"
INTENTS = (CONFIRM, CANCEL, STOP, UNREADABLE)
# What the practice program's feed calls each answer (CONTRACT.md: GET /events).
FEED_KINDS = {CONFIRM: "confirmed", CANCEL: "cancellation_requested", STOP: "opted_out", UNREADABLE: "unreadable_reply"}
REPLY_WINDOW = timedelta(days=14)
CLOCK_SKEW = timedelta(minutes=5)  # the provider's clock against ours: a reply cannot precede its reminder by more
MAX_BODY = 1600  # characters: ten concatenated SMS, more than any phone sends as one reply

_WORDS = {
    CONFIRM: {"ja", "jawohl", "jep", "jo", "ok", "okay", "yes", "bestätige", "bestätigt", "bestätigen",
              "bestaetige", "bestaetigt", "zusage"},
    CANCEL: {"nein", "nee", "nö", "noe", "absagen", "absage", "storno", "stornieren", "cancel", "abgesagt"},
    STOP: {"stop", "stopp", "abmelden", "abbestellen", "unsubscribe"},
}
# Words a patient may put before the answer without changing it.
_LEADING = {"hallo", "hi", "hey", "moin", "servus", "guten", "tag", "morgen", "abend", "bitte", "gerne", "gern",
            "liebe", "lieber", "danke"}
# After a yes, these make it something else ("Ja, leider nicht"): read by the practice, not guessed.
_NEGATIONS = {"nicht", "kein", "keine", "leider", "not", "cannot"}
_REPEATED_JA = re.compile(r"^ja+$")


def understand(text: str | None) -> str:
    """The intent of a reply's text: CONFIRM, CANCEL, STOP or UNREADABLE."""
    words = _words(text or "")
    while words and words[0] in _LEADING and len(words) > 1:
        words = words[1:]
    if not words:
        return UNREADABLE
    intent = _intent_of(words[0])
    if intent is None:
        return UNREADABLE
    others = {_intent_of(word) for word in words[1:]} - {None, intent}
    if intent == CONFIRM and _NEGATIONS & set(words[1:]):
        others.add(CANCEL)
    return UNREADABLE if others else intent


def _words(text: str) -> list[str]:
    """Lower-case words of letters only; everything else (emoji, punctuation, controls) separates them."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return re.findall(r"[^\W\d_]+", folded)


def _intent_of(word: str) -> str | None:
    if _REPEATED_JA.match(word):
        return CONFIRM
    return next((intent for intent, words in _WORDS.items() if word in words), None)


@dataclass(frozen=True)
class SentReminder:
    """A reminder submitted to the number that replied: what matching needs to know of it."""

    reminder_id: int
    practice_id: int
    submitted_at: datetime
    appointment_start: datetime
    sender: str | None = None  # the originator it was sent from: a number, or a sender name


@dataclass(frozen=True)
class Match:
    """Whom a reply is for: one reminder per practice; `ambiguous` when there is more than one practice."""

    reminders: tuple[SentReminder, ...]

    @property
    def ambiguous(self) -> bool:
        return len(self.reminders) > 1

    @property
    def found(self) -> bool:
        return bool(self.reminders)


def match(intent: str, sent: list[SentReminder], replied_at: datetime, replied_to: str | None = None) -> Match:
    """The reminder(s) a reply sent at `replied_at` to the number `replied_to` answers (module docstring)."""
    window = [row for row in sent if replied_at - REPLY_WINDOW <= row.submitted_at <= replied_at + CLOCK_SKEW]
    if replied_to:
        answerable = [row for row in window if _digits(row.sender) == _digits(replied_to)]
        window = answerable or window
    if intent != STOP:
        upcoming = [row for row in window if row.appointment_start > replied_at]
        window = upcoming or window
    latest: dict[int, SentReminder] = {}
    for row in sorted(window, key=lambda row: (row.submitted_at, row.reminder_id)):
        latest[row.practice_id] = row
    return Match(tuple(sorted(latest.values(), key=lambda row: row.practice_id)))


def _digits(number: str | None) -> str:
    return (number or "").strip().removeprefix("+")


def applies(intent: str, found: Match) -> bool:
    """Whether the reply's intent is acted on: STOP always; JA and NEIN only for one practice."""
    return intent == STOP or (intent in (CONFIRM, CANCEL) and not found.ambiguous)


def feed_kind(intent: str, found: Match) -> str:
    """The feed's kind for this reply at each matched practice: an ambiguous JA/NEIN is one to read."""
    return FEED_KINDS[intent] if applies(intent, found) else FEED_KINDS[UNREADABLE]


def consent_given_again(revision_at_stop: int | None, revision: int | None) -> bool:
    """Whether the practice program's "SMS consent: yes" holds after the patient replied STOP.

    A program re-sends its unchanged records (a full re-sync, an edit of
    another field); that must not undo a STOP. Consent counts again only from a
    record newer than the one the STOP found: a higher `revision`.
    """
    return revision_at_stop is None or (revision is not None and revision > revision_at_stop)


STOP_CONFIRMATION = "Sie erhalten keine Terminerinnerungen mehr von {praxis}."


def stop_confirmation(practice_name: str) -> str:
    """The one SMS that answers a STOP (plain substitution: a practice name cannot execute anything)."""
    return STOP_CONFIRMATION.replace("{praxis}", practice_name)
