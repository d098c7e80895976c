"""Column types and helpers shared by all models."""
from datetime import datetime, timezone

from sqlalchemy import ARRAY, ColumnElement, DateTime, TypeDecorator, any_, bindparam

from ..extensions import db


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """An aware UTC datetime on every database.

    SQLite keeps no offset, so values are stored as naive UTC and made aware
    again on the way out; PostgreSQL stores timestamptz.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC column")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


def one_of(column, values) -> ColumnElement[bool]:
    """`column IN (values)`; on PostgreSQL `column = ANY(array)`, one parameter for any number of values.

    A batch's thousand IDs as one array: the statement's text stays the same, so psycopg does not parse
    a thousand placeholders again for every batch, and the server can keep its plan.
    """
    values = list(values)
    if db.session.get_bind().dialect.name != "postgresql":
        return column.in_(values)
    return column == any_(bindparam(None, values, type_=ARRAY(column.type)))
