"""claims in index order: each kind of claimable reminder from its own index

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 19:00:00

"""
from alembic import op
from sqlalchemy import text

# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0007'
branch_labels = None
depends_on = None

RETRY = "status = 'queued' AND claim_token IS NULL"
CLAIMED = "status = 'queued' AND submit_started_at IS NULL"


def upgrade():
    op.drop_index('ix_reminders_due', table_name='reminders')
    op.create_index('ix_reminders_due', 'reminders', ['status', 'due_at', 'id'], unique=False)
    op.create_index('ix_reminders_retry', 'reminders', ['next_attempt_at'], unique=False,
                    postgresql_where=text(RETRY), sqlite_where=text(RETRY))
    op.create_index('ix_reminders_claimed', 'reminders', ['claimed_at'], unique=False,
                    postgresql_where=text(CLAIMED), sqlite_where=text(CLAIMED))


def downgrade():
    op.drop_index('ix_reminders_claimed', table_name='reminders')
    op.drop_index('ix_reminders_retry', table_name='reminders')
    op.drop_index('ix_reminders_due', table_name='reminders')
    op.create_index('ix_reminders_due', 'reminders', ['status', 'due_at'], unique=False)
