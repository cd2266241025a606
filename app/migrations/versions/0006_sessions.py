"""Server-side sessions: a row per login, sealed under a key only its cookie holds.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "sessions",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("sealed", sa.Text(), nullable=False),
        sa.Column("expires_day", sa.Date(), nullable=False),
        sa.Column("staff_id", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(["staff_id"], ["staff_accounts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sqlite_with_rowid=False,
    )
    op.create_index(op.f("ix_sessions_expires_day"), "sessions", ["expires_day"], unique=False)
    op.create_index(op.f("ix_sessions_staff_id"), "sessions", ["staff_id"], unique=False)


def downgrade() -> None:
    """Undo this revision."""
    op.drop_index(op.f("ix_sessions_staff_id"), table_name="sessions")
    op.drop_index(op.f("ix_sessions_expires_day"), table_name="sessions")
    op.drop_table("sessions")
