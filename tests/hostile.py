"""The table of hostile input every write endpoint and search parameter is driven with,
and a snapshot of the database to prove that a refused request changed nothing."""
from sqlalchemy import select

from portal.extensions import db

# Values no text field accepts: each must be refused naming its field.
HOSTILE_TEXT = {
    "nul": "Er\x00ika",
    "bell": "Er\x07ika",
    "escape": "\x1b[31mErika",
    "c1_control": "Er\x85ika",
    "rtl_override": "\u202eakirE",
    "lone_surrogate": "Er\ud800ika",
    "noncharacter": "Er\uffffika",
    "huge": "x" * 100_000,
}
# Values no date or time field accepts: outside the years our arithmetic and calendar cover.
HOSTILE_DATES = {
    "year_1": "0001-01-01",
    "year_9999": "9999-12-31",
    "year_9999_time": "9999-12-31T23:59:59-12:00",
    "year_1_time": "0001-01-01T00:00:00+14:00",
}
# Odd but legitimate text: accepted, or refused for the field's own rule (never a 500).
ODD_TEXT = {
    "rtl_mark": "\u200fשלום",
    "emoji": "Erika 😀👍🏽",
    "umlauts": "Müller-Lüdenscheidt ß",
}
DEEP_JSON = "[" * 10_000 + "]" * 10_000


# When a key or the practice program was last seen: bookkeeping of the call, not what it changed.
CALL_BOOKKEEPING = {"last_used_at", "last_seen_at"}


def snapshot() -> dict[str, list]:
    """Every row of every table, in a stable order."""
    dump = {}
    for table in db.metadata.sorted_tables:
        columns = [column for column in table.columns if column.name not in CALL_BOOKKEEPING]
        rows = db.session.execute(select(*columns)).all()
        dump[table.name] = sorted((tuple(map(repr, row)) for row in rows))
    db.session.rollback()
    return dump
