"""The restore mark: each finished restore gets a new random id, carried in exports.

A server put back from a backup made after its last export forks no chain and
rewinds no audit log the workstation saw, yet the reply bundles applied since
the backup are gone from it. The purge that finishes a restore writes a new
random id (`restore_mark`, one row) that every export carries (format 8), so the
workstation names the restore and what it may have lost.

Revision ID: 0020_restore2
Revises: 0019
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020_restore2"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "restore_mark",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("epoch", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    """Undo this revision: exports (format 7 again) no longer say a restore happened."""
    op.drop_table("restore_mark")
