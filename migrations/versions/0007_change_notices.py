"""change notices: a reminder row has a kind (reminder, moved_notice, cancelled_notice)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 16:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('reminders') as batch:
        batch.add_column(sa.Column('kind', sa.String(length=20), server_default='reminder', nullable=False))
        batch.drop_constraint('uq_reminders_appointment_start', type_='unique')
        batch.create_unique_constraint('uq_reminders_appointment_start_kind', ['appointment_id', 'start_at', 'kind'])
        batch.create_check_constraint(op.f('ck_reminders_kind'),
                                      "kind in ('reminder', 'moved_notice', 'cancelled_notice')")


def downgrade():
    op.execute("DELETE FROM appointment_events WHERE reminder_id IN "
               "(SELECT id FROM reminders WHERE kind != 'reminder')")
    op.execute("DELETE FROM delivery_reports WHERE reminder_id IN (SELECT id FROM reminders WHERE kind != 'reminder')")
    op.execute("DELETE FROM reminders WHERE kind != 'reminder'")
    with op.batch_alter_table('reminders') as batch:
        batch.drop_constraint(op.f('ck_reminders_kind'), type_='check')
        batch.drop_constraint('uq_reminders_appointment_start_kind', type_='unique')
        batch.create_unique_constraint('uq_reminders_appointment_start', ['appointment_id', 'start_at'])
        batch.drop_column('kind')
