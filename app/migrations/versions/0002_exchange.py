"""Export state, applied reply bundles, source notices.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "applied_bundles",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sqlite_with_rowid=False,
    )
    # Plain ALTER TABLE (no batch copy): a copied SQLite table would lose
    # WITHOUT ROWID, and with it the guarantee that row order reveals nothing.
    op.add_column(
        "items", sa.Column("exported", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.add_column("sources", sa.Column("notice", sa.String(length=32), nullable=True))


def downgrade() -> None:
    """Undo this revision (SQLite 3.35 or later drops columns in place)."""
    op.execute("ALTER TABLE sources DROP COLUMN notice")
    op.execute("ALTER TABLE items DROP COLUMN exported")
    op.drop_table("applied_bundles")
