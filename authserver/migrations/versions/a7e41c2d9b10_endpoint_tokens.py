"""endpoint tokens and their pending creation requests

Revision ID: a7e41c2d9b10
Revises: 62cd3c53ba0e
Create Date: 2026-11-24 03:30:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a7e41c2d9b10"
down_revision = "62cd3c53ba0e"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "endpoint_tokens",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("subscription_pk", sa.Integer(), nullable=False),
        sa.Column("bridge_id", sa.String(length=50), nullable=False),
        sa.Column("endpoint_type", sa.String(length=50), nullable=False),
        sa.Column("app_code", sa.String(length=50), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("live_slot", sa.String(length=200), nullable=True),
        sa.Column("key_digest", sa.String(length=64), nullable=False),
        sa.Column("key_encrypted", sa.Text(), nullable=False),
        sa.Column("previous_key_digest", sa.String(length=64), nullable=True),
        sa.Column("previous_valid_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("authorized_by", sa.String(length=50), nullable=False),
        sa.Column("authorized_by_name", sa.String(length=200), nullable=True),
        sa.Column("created_by_account", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rotated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["subscription_pk"],
            ["subscriptions.id"],
            name=op.f("fk_endpoint_tokens_subscription_pk_subscriptions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_endpoint_tokens")),
        sa.UniqueConstraint("key_digest", name=op.f("uq_endpoint_tokens_key_digest")),
        sa.UniqueConstraint("live_slot", name=op.f("uq_endpoint_tokens_live_slot")),
        sa.UniqueConstraint("previous_key_digest", name=op.f("uq_endpoint_tokens_previous_key_digest")),
    )
    with op.batch_alter_table("endpoint_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_endpoint_tokens_subscription_pk"), ["subscription_pk"], unique=False)

    op.create_table(
        "endpoint_token_requests",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("state_digest", sa.String(length=64), nullable=False),
        sa.Column("code_verifier_encrypted", sa.Text(), nullable=False),
        sa.Column("subscription_pk", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("bridge_id", sa.String(length=50), nullable=False),
        sa.Column("endpoint_type", sa.String(length=50), nullable=False),
        sa.Column("app_code", sa.String(length=50), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("token_id", sa.String(length=40), nullable=True),
        sa.Column("via_api", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["subscription_pk"],
            ["subscriptions.id"],
            name=op.f("fk_endpoint_token_requests_subscription_pk_subscriptions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_endpoint_token_requests")),
        sa.UniqueConstraint("state_digest", name=op.f("uq_endpoint_token_requests_state_digest")),
    )
    with op.batch_alter_table("endpoint_token_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_endpoint_token_requests_subscription_pk"), ["subscription_pk"], unique=False
        )


def downgrade():
    with op.batch_alter_table("endpoint_token_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_endpoint_token_requests_subscription_pk"))
    op.drop_table("endpoint_token_requests")
    with op.batch_alter_table("endpoint_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_endpoint_tokens_subscription_pk"))
    op.drop_table("endpoint_tokens")
