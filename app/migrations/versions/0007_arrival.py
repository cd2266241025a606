"""The last spent TOTP step becomes a tag under the run key, never a time.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("staff_accounts") as batch:
        batch.alter_column("totp_last_step", new_column_name="totp_spent")
    # A time step says when the last login was: keep only that there was one. A
    # tag no run key made refuses codes for a minute after the next start.
    op.execute(sa.text("UPDATE staff_accounts SET totp_spent = 1 WHERE totp_spent != 0"))
    # Throttle windows were minutes since the epoch; tags under the run key now.
    op.execute(sa.text("DELETE FROM throttle"))


def downgrade() -> None:
    """Undo this revision."""
    op.execute(sa.text("UPDATE staff_accounts SET totp_spent = 0"))
    with op.batch_alter_table("staff_accounts") as batch:
        batch.alter_column("totp_spent", new_column_name="totp_last_step")
    op.execute(sa.text("DELETE FROM throttle"))
