"""a common surname found from the newest appointments

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 21:30:00

At 5 million reminders a lookup by a surname that 50,000 patients bear joined all their
appointments and sorted them for the first page (300 to 530 ms); walking the appointments newest
first finds the page's matches within a few hundred rows. A name that few patients bear is searched
by their IDs instead (support._named), so the walk is only taken where it ends soon.
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_appointments_start', 'appointments', ['start_at', 'id'], unique=False)


def downgrade():
    op.drop_index('ix_appointments_start', table_name='appointments')
