"""Only the review workspace's own key makes acknowledgements delete.

A reply bundle signed by a reviewer's key but not sealed by the workspace's
acknowledgement key (`ack_key`, one row) holds what it acknowledges
(`items.ack_held`) instead of deleting it, so that a key file used away from
the workstation deletes nothing nobody imported.

Revision ID: 0019
Revises: 0018
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "ack_key",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sqlite_with_rowid=False,
    )
    # Plain ALTER TABLE (no batch copy): a copied SQLite table would lose WITHOUT ROWID.
    op.add_column(
        "items",
        sa.Column("ack_held", sa.Boolean(), server_default=sa.false(), nullable=False),
    )


def downgrade() -> None:
    """Undo this revision (SQLite 3.35 or later drops columns in place).

    Items held stay, unacknowledged: the next acknowledgement deletes them.
    """
    op.execute("ALTER TABLE items DROP COLUMN ack_held")
    op.drop_table("ack_key")
