"""a practice's reminders list ordered and counted from an index

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 19:40:00

At 5 million reminders the list read every one of the practice's reminder rows (1,700 heap pages,
scattered) to sort them for a page of fifty; now the IDs come from this index, and only the page's
rows are read.
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_reminders_practice_start', 'reminders', ['practice_id', 'start_at'], unique=False,
                    postgresql_include=['id', 'status', 'appointment_id'])


def downgrade():
    op.drop_index('ix_reminders_practice_start', table_name='reminders')
