"""Reply bundles the reviewers took back are remembered as voided, never to be applied.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    # Plain ALTER TABLE (no batch copy): a copied SQLite table would lose WITHOUT ROWID.
    op.add_column(
        "applied_bundles",
        sa.Column("voided", sa.Boolean(), server_default=sa.false(), nullable=False),
    )


def downgrade() -> None:
    """Undo this revision (SQLite 3.35 or later drops columns in place).

    A voided bundle's row stays, read as applied: handed in, it is refused as a replay.
    """
    op.execute("ALTER TABLE applied_bundles DROP COLUMN voided")
