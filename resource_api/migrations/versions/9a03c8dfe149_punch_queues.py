"""punch queues: the outbox reads one row per device, not every pending punch

Revision ID: 9a03c8dfe149
Revises: cd4f09a8d716
Create Date: 2026-11-24 22:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9a03c8dfe149'
down_revision = 'cd4f09a8d716'
branch_labels = None
depends_on = None

_PENDING = sa.text("state = 'pending'")


def upgrade():
    op.create_table('punch_queues',
    sa.Column('subscription_id', sa.String(length=50), nullable=False),
    sa.Column('device_serial', sa.String(length=64), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('enqueued', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('subscription_id', 'device_serial', name=op.f('pk_punch_queues'))
    )
    with op.batch_alter_table('punch_queues', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_punch_queues_due_at'), ['due_at'], unique=False)
    # Every device with pending punches is due now; the worker finds out which of them are backing off.
    op.execute(
        "INSERT INTO punch_queues (subscription_id, device_serial, due_at, enqueued) "
        "SELECT subscription_id, device_serial, MIN(next_attempt_at), 1 FROM punches WHERE state = 'pending' "
        "GROUP BY subscription_id, device_serial"
    )
    with op.batch_alter_table('punches', schema=None) as batch_op:
        batch_op.drop_index('ix_punches_state')
        batch_op.create_index(
            'ix_punches_pending',
            ['subscription_id', 'device_serial', 'id'],
            unique=False,
            postgresql_where=_PENDING,
            sqlite_where=_PENDING,
        )


def downgrade():
    with op.batch_alter_table('punches', schema=None) as batch_op:
        batch_op.drop_index('ix_punches_pending', postgresql_where=_PENDING, sqlite_where=_PENDING)
        batch_op.create_index('ix_punches_state', ['state'], unique=False)
    with op.batch_alter_table('punch_queues', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_punch_queues_due_at'))
    op.drop_table('punch_queues')
