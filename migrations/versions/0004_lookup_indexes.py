"""lookup at scale: the program's appointment ID and covering indexes for the usage figures

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 02:10:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_appointments_external_id', 'appointments', ['external_id'], unique=False)
    op.create_index('ix_reminders_submitted', 'reminders', ['submitted_at'], unique=False,
                    postgresql_include=['practice_id', 'status', 'delivery_status'])
    op.create_index('ix_reminders_practice_submitted', 'reminders', ['practice_id', 'submitted_at'], unique=False,
                    postgresql_include=['status', 'delivery_status'])
    op.create_index('ix_reminders_failures', 'reminders', ['status', 'submit_started_at'], unique=False,
                    postgresql_include=['practice_id', 'claimed_at', 'due_at', 'provider_error_code'])


def downgrade():
    op.drop_index('ix_reminders_failures', table_name='reminders')
    op.drop_index('ix_reminders_practice_submitted', table_name='reminders')
    op.drop_index('ix_reminders_submitted', table_name='reminders')
    op.drop_index('ix_appointments_external_id', table_name='appointments')
