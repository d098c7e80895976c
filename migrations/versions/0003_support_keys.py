"""support: consent withdrawal time and search keys for names and numbers

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 01:15:00

"""
from alembic import op
import sqlalchemy as sa

from portal.domain.search_keys import name_key, phone_key

# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('patients', schema=None) as batch_op:
        batch_op.add_column(sa.Column('consent_withdrawn_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('name_key', sa.String(length=210), nullable=True))
        batch_op.add_column(sa.Column('mobile_key', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_patients_mobile_key'), ['mobile_key'], unique=False)
    _fill_keys()
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
        op.create_index('ix_patients_name_key', 'patients', ['name_key'], postgresql_using='gin',
                        postgresql_ops={'name_key': 'gin_trgm_ops'})
    else:
        op.create_index('ix_patients_name_key', 'patients', ['name_key'])


def _fill_keys():
    """Existing patients get their keys by the same rule as new ones."""
    connection = op.get_bind()
    patients = sa.table('patients', sa.column('id', sa.Integer), sa.column('first_name', sa.String),
                        sa.column('last_name', sa.String), sa.column('mobile_raw', sa.String),
                        sa.column('name_key', sa.String), sa.column('mobile_key', sa.String))
    rows = connection.execute(sa.select(patients.c.id, patients.c.first_name, patients.c.last_name,
                                        patients.c.mobile_raw)).all()
    for row in rows:
        connection.execute(patients.update().where(patients.c.id == row.id).values(
            name_key=name_key(row.first_name, row.last_name), mobile_key=phone_key(row.mobile_raw)))


def downgrade():
    op.drop_index('ix_patients_name_key', table_name='patients')
    with op.batch_alter_table('patients', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_patients_mobile_key'))
        batch_op.drop_column('mobile_key')
        batch_op.drop_column('name_key')
        batch_op.drop_column('consent_withdrawn_at')
