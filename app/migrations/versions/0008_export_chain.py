"""Export bundles form a chain; items remember the day they were first exported.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "export_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("digest", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sqlite_with_rowid=False,
    )
    # Plain ALTER TABLE (no batch copy): a copied SQLite table would lose WITHOUT ROWID.
    op.add_column("items", sa.Column("exported_day", sa.Date(), nullable=True))
    # The day they went out is not known: the day they arrived comes before it,
    # so the warning about unacknowledged items errs on the early side.
    op.execute("UPDATE items SET exported_day = received_day WHERE exported")


def downgrade() -> None:
    """Undo this revision (SQLite 3.35 or later drops columns in place)."""
    op.execute("ALTER TABLE items DROP COLUMN exported_day")
    op.drop_table("export_head")
