"""The throttle keeps the previous window's failures too, so no window's edge doubles its limit.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    # Plain ALTER TABLE (no batch copy): a copied SQLite table would lose WITHOUT ROWID.
    op.add_column(
        "throttle", sa.Column("previous", sa.Integer(), nullable=False, server_default="0")
    )


def downgrade() -> None:
    """Undo this revision (SQLite 3.35 or later drops columns in place)."""
    op.execute("ALTER TABLE throttle DROP COLUMN previous")
