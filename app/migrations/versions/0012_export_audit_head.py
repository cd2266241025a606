"""The export head remembers how many audit entries the newest export carried.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    # Plain ALTER TABLE (no batch copy): a copied SQLite table would lose WITHOUT ROWID.
    op.add_column("export_head", sa.Column("audit_entries", sa.Integer(), nullable=True))


def downgrade() -> None:
    """Undo this revision (SQLite 3.35 or later drops columns in place).

    The next export after an upgrade again links its audit head to no earlier one.
    """
    op.execute("ALTER TABLE export_head DROP COLUMN audit_entries")
