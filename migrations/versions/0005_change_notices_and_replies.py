"""settings for change notices and patients' replies

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 15:50:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

TABLES = ('practice_groups', 'practices')


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column('change_notice', sa.Boolean(), nullable=True))
            batch.add_column(sa.Column('change_template_moved', sa.Text(), nullable=True))
            batch.add_column(sa.Column('change_template_cancelled', sa.Text(), nullable=True))
            batch.add_column(sa.Column('replies_enabled', sa.Boolean(), nullable=True))
            batch.add_column(sa.Column('reply_line', sa.String(length=160), nullable=True))


def downgrade():
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            for column in ('reply_line', 'replies_enabled', 'change_template_cancelled', 'change_template_moved', 'change_notice'):
                batch.drop_column(column)
