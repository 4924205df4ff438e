"""personal access tokens expire

Revision ID: c5d2e8a41f07
Revises: a7e41c2d9b10
Create Date: 2026-11-25 01:45:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "c5d2e8a41f07"
down_revision = "a7e41c2d9b10"
branch_labels = None
depends_on = None


def upgrade():
    # Tokens made before this column keep working (NULL: no expiry); the API tokens page shows them as such.
    with op.batch_alter_table("personal_access_tokens") as batch_op:
        batch_op.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("personal_access_tokens") as batch_op:
        batch_op.drop_column("expires_at")
