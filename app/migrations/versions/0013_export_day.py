"""The export head remembers the latest day an export was dated (rule D2 after a clock set back).

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    # Plain ALTER TABLE (no batch copy): a copied SQLite table would lose WITHOUT ROWID.
    op.add_column("export_head", sa.Column("day", sa.Date(), nullable=True))


def downgrade() -> None:
    """Undo this revision (SQLite 3.35 or later drops columns in place).

    Rule D2 then goes by the server's clock alone, as before.
    """
    op.execute("ALTER TABLE export_head DROP COLUMN day")
