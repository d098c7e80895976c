"""inbound replies: each inbound SMS once, each practice's reply with its feed cursor

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 15:45:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'inbound_messages',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('provider_message_id', sa.String(length=64), nullable=False),
        sa.Column('originator', sa.String(length=20), nullable=True),
        sa.Column('recipient', sa.String(length=20), nullable=True),
        sa.Column('body', sa.Text(), nullable=True),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('intent', sa.String(length=16), nullable=False),
        sa.Column('match', sa.String(length=12), nullable=False),
        sa.Column('purged_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_inbound_messages')),
        sa.UniqueConstraint('provider_message_id', name=op.f('uq_inbound_messages_provider_message_id')),
    )
    op.create_table(
        'replies',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('practice_id', sa.Integer(), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('inbound_message_id', sa.Integer(), nullable=False),
        sa.Column('reminder_id', sa.Integer(), nullable=False),
        sa.Column('appointment_id', sa.Integer(), nullable=False),
        sa.Column('patient_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=24), nullable=False),
        sa.Column('intent', sa.String(length=16), nullable=False),
        sa.Column('ambiguous', sa.Boolean(), nullable=False),
        sa.Column('text', sa.Text(), nullable=True),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('confirmation', sa.String(length=10), nullable=True),
        sa.Column('confirmation_message_id', sa.String(length=64), nullable=True),
        sa.Column('purged_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['appointment_id'], ['appointments.id'], name=op.f('fk_replies_appointment_id_appointments')),
        sa.ForeignKeyConstraint(['inbound_message_id'], ['inbound_messages.id'],
                                name=op.f('fk_replies_inbound_message_id_inbound_messages')),
        sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_replies_patient_id_patients')),
        sa.ForeignKeyConstraint(['practice_id'], ['practices.id'], name=op.f('fk_replies_practice_id_practices')),
        sa.ForeignKeyConstraint(['reminder_id'], ['reminders.id'], name=op.f('fk_replies_reminder_id_reminders')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_replies')),
        sa.UniqueConstraint('inbound_message_id', 'practice_id', name='uq_replies_message_practice'),
        sa.UniqueConstraint('practice_id', 'seq', name='uq_replies_practice_seq'),
    )
    op.create_index('ix_replies_appointment', 'replies', ['appointment_id'], unique=False)
    op.create_index('ix_replies_patient', 'replies', ['patient_id'], unique=False)
    with op.batch_alter_table('patients') as batch_op:
        batch_op.add_column(sa.Column('opted_out_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('opted_out_revision', sa.Integer(), nullable=True))
    op.create_index('ix_reminders_recipient_submitted', 'reminders', ['recipient', 'submitted_at'], unique=False)


def downgrade():
    op.drop_index('ix_reminders_recipient_submitted', table_name='reminders')
    with op.batch_alter_table('patients') as batch_op:
        batch_op.drop_column('opted_out_revision')
        batch_op.drop_column('opted_out_at')
    op.drop_index('ix_replies_patient', table_name='replies')
    op.drop_index('ix_replies_appointment', table_name='replies')
    op.drop_table('replies')
    op.drop_table('inbound_messages')
