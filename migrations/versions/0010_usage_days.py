"""daily usage totals per practice, kept by triggers on reminders

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 19:10:00

The usage page counted every SMS of the period on each view (343 ms for all practices at a million
reminders, growing with the vendor's volume). Now each insert or update of reminders appends the
changes of their usage series per practice and day to usage_deltas (one row per practice, day and
series per statement on PostgreSQL, from the statement's transition tables), and the scheduler
folds them into usage_days. Append-only, so a storm of delivery reports for one practice never
waits on one counter row. Reminders are never deleted, so there is no DELETE trigger.

The series of a reminder, as the usage page always counted it: a submitted SMS by the day it was
submitted (delivered, failed in delivery, or pending); a refusal by the time of the attempt; an
unknown outcome by the time the submission began; a submission the provider never answered
(retries exhausted) is none of them.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

SERIES = ("delivered", "delivery_failed", "pending", "refused", "outcome_unknown")


def _series(r: str) -> str:
    return f"""CASE
        WHEN {r}.status = 'submitted' AND {r}.submitted_at IS NOT NULL THEN
            CASE WHEN {r}.delivery_status = 'delivered' THEN 'delivered'
                 WHEN {r}.delivery_status IN ('delivery_failed', 'expired') THEN 'delivery_failed'
                 ELSE 'pending' END
        WHEN {r}.status <> 'failed' THEN NULL
        WHEN {r}.provider_error_code = 'outcome_unknown' THEN
            CASE WHEN {r}.submit_started_at IS NOT NULL THEN 'outcome_unknown' END
        WHEN {r}.provider_error_code IS NULL OR {r}.provider_error_code <> 'retries_exhausted' THEN 'refused'
    END"""


def _moment(r: str) -> str:
    """When the reminder's series counts (meaningful only where it has one)."""
    return f"""CASE WHEN {r}.status = 'submitted' THEN {r}.submitted_at
        WHEN {r}.provider_error_code = 'outcome_unknown' THEN {r}.submit_started_at
        ELSE coalesce({r}.submit_started_at, {r}.claimed_at, {r}.due_at) END"""


def _day(dialect: str, moment: str) -> str:
    # SQLite keeps naive UTC; PostgreSQL's date() would follow the session's time zone.
    return f"date({moment})" if dialect == "sqlite" else f"(({moment}) AT TIME ZONE 'UTC')::date"


def _classified(dialect: str, r: str, source: str, sign: int) -> str:
    return (f"SELECT {r}.practice_id AS practice_id, {_day(dialect, _moment(r))} AS day, "
            f"{_series(r)} AS series, {sign} AS delta {source}")


def _record(parts: list[str]) -> str:
    """The net change per practice, day and series of the rows in `parts`."""
    return (f"INSERT INTO usage_deltas (practice_id, day, series, delta) "
            f"SELECT practice_id, day, series, sum(delta) FROM ({' UNION ALL '.join(parts)}) AS changes "
            f"WHERE series IS NOT NULL GROUP BY practice_id, day, series HAVING sum(delta) <> 0")


def _backfill(dialect: str) -> str:
    sums = ", ".join(f"sum(CASE WHEN series = '{name}' THEN 1 ELSE 0 END)" for name in SERIES)
    return (f"INSERT INTO usage_days (practice_id, day, {', '.join(SERIES)}) "
            f"SELECT practice_id, day, {sums} FROM ({_classified(dialect, 'r', 'FROM reminders AS r', 1)}) AS c "
            f"WHERE series IS NOT NULL GROUP BY practice_id, day")


def _postgresql_triggers() -> list[str]:
    inserted = _record([_classified("postgresql", "r", "FROM new_rows AS r", 1)])
    updated = _record([_classified("postgresql", "r", "FROM new_rows AS r", 1),
                       _classified("postgresql", "r", "FROM old_rows AS r", -1)])
    statements = []
    for name, body, tables in (("insert", inserted, "NEW TABLE AS new_rows"),
                               ("update", updated, "OLD TABLE AS old_rows NEW TABLE AS new_rows")):
        statements += [
            f"CREATE OR REPLACE FUNCTION reminders_usage_{name}() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN {body}; RETURN NULL; END $$",
            # Per statement: a batch of a thousand reminders is one aggregated INSERT, not a thousand.
            f"CREATE TRIGGER reminders_usage_{name} AFTER {name.upper()} ON reminders "
            f"REFERENCING {tables} FOR EACH STATEMENT EXECUTE FUNCTION reminders_usage_{name}()",
        ]
    return statements


def _sqlite_triggers() -> list[str]:
    inserted = _record([_classified("sqlite", "NEW", "", 1)])
    updated = _record([_classified("sqlite", "NEW", "", 1), _classified("sqlite", "OLD", "", -1)])
    return [f"CREATE TRIGGER reminders_usage_insert AFTER INSERT ON reminders BEGIN {inserted}; END",
            f"CREATE TRIGGER reminders_usage_update AFTER UPDATE ON reminders BEGIN {updated}; END"]


def upgrade():
    dialect = op.get_bind().dialect.name
    op.create_table(
        'usage_days',
        sa.Column('practice_id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        *[sa.Column(name, sa.Integer(), nullable=False) for name in SERIES],
        sa.ForeignKeyConstraint(['practice_id'], ['practices.id'], name=op.f('fk_usage_days_practice_id_practices')),
        sa.PrimaryKeyConstraint('practice_id', 'day', name=op.f('pk_usage_days')),
    )
    op.create_index('ix_usage_days_day', 'usage_days', ['day'], unique=False,
                    postgresql_include=['practice_id', *SERIES])
    op.create_table(
        'usage_deltas',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('practice_id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('series', sa.String(length=16), nullable=False),
        sa.Column('delta', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['practice_id'], ['practices.id'],
                                name=op.f('fk_usage_deltas_practice_id_practices')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_usage_deltas')),
    )
    op.execute(_backfill(dialect))
    for statement in _postgresql_triggers() if dialect == "postgresql" else _sqlite_triggers():
        op.execute(statement)
    op.drop_index('ix_reminders_practice_submitted', table_name='reminders')
    op.drop_index('ix_reminders_submitted', table_name='reminders')


def downgrade():
    dialect = op.get_bind().dialect.name
    op.create_index('ix_reminders_submitted', 'reminders', ['submitted_at'], unique=False,
                    postgresql_include=['practice_id', 'status', 'delivery_status'])
    op.create_index('ix_reminders_practice_submitted', 'reminders', ['practice_id', 'submitted_at'], unique=False,
                    postgresql_include=['status', 'delivery_status'])
    for name in ("insert", "update"):
        op.execute(f"DROP TRIGGER reminders_usage_{name}" + (" ON reminders" if dialect == "postgresql" else ""))
        if dialect == "postgresql":
            op.execute(f"DROP FUNCTION reminders_usage_{name}()")
    op.drop_table('usage_deltas')
    op.drop_index('ix_usage_days_day', table_name='usage_days')
    op.drop_table('usage_days')
