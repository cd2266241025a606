"""Resumable uploads record how many bytes were appended, so a restart can trust no more.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    # Plain ALTER TABLE (no batch copy): a copied SQLite table would lose
    # WITHOUT ROWID. Uploads begun before it start again from 0: their files are
    # cut back to what the row says (nothing), and their clients resume from there.
    op.add_column(
        "uploads",
        sa.Column("received", sa.Integer(), nullable=False, server_default=sa.text("0")),
    )


def downgrade() -> None:
    """Undo this revision (SQLite 3.35 or later drops columns in place)."""
    op.execute("ALTER TABLE uploads DROP COLUMN received")
