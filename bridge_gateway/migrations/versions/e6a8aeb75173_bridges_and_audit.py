"""Bridges' connection settings and the gateway's audit log

Revision ID: e6a8aeb75173
Revises: 
Create Date: 2026-11-24 00:38:34.691546

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e6a8aeb75173'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('gateway_audit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('request_id', sa.String(length=128), nullable=True),
    sa.Column('caller', sa.String(length=200), nullable=False),
    sa.Column('subscription_id', sa.String(length=50), nullable=True),
    sa.Column('bridge_id', sa.String(length=50), nullable=True),
    sa.Column('operation', sa.String(length=64), nullable=False),
    sa.Column('target', sa.String(length=300), nullable=True),
    sa.Column('status', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.String(length=100), nullable=False),
    sa.Column('duration_ms', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_gateway_audit'))
    )
    with op.batch_alter_table('gateway_audit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_gateway_audit_occurred_at'), ['occurred_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_gateway_audit_request_id'), ['request_id'], unique=False)
        batch_op.create_index('ix_gateway_audit_subscription_occurred', ['subscription_id', 'occurred_at'], unique=False)

    op.create_table('gateway_bridges',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subscription_id', sa.String(length=50), nullable=False),
    sa.Column('bridge_id', sa.String(length=50), nullable=False),
    sa.Column('subscription_gid', sa.String(length=64), nullable=False),
    sa.Column('subscription_password_encrypted', sa.Text(), nullable=False),
    sa.Column('scheme', sa.String(length=5), nullable=False),
    sa.Column('host', sa.String(length=253), nullable=False),
    sa.Column('port', sa.Integer(), nullable=False),
    sa.Column('database_id', sa.String(length=50), nullable=False),
    sa.Column('company_id', sa.String(length=50), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('verified_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_gateway_bridges'))
    )
    # SubscriptionID and BridgeID are case-insensitive in EBS: unique together, case-folded.
    op.create_index(
        'uq_gateway_bridges_subscription_bridge',
        'gateway_bridges',
        [sa.text('lower(subscription_id)'), sa.text('lower(bridge_id)')],
        unique=True,
    )


def downgrade():
    op.drop_index('uq_gateway_bridges_subscription_bridge', table_name='gateway_bridges')
    op.drop_table('gateway_bridges')
    with op.batch_alter_table('gateway_audit', schema=None) as batch_op:
        batch_op.drop_index('ix_gateway_audit_subscription_occurred')
        batch_op.drop_index(batch_op.f('ix_gateway_audit_request_id'))
        batch_op.drop_index(batch_op.f('ix_gateway_audit_occurred_at'))

    op.drop_table('gateway_audit')
