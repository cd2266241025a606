"""The review workspace confirms which exports arrived: `export_head.confirmed`.

A reply bundle sealed by the workspace's key (reply format 5) names the newest
export number through which its chain is complete. While the server's newest
export is past it, the next export carries every item still here again, so a
bundle taken with a staff login (or a stick lost) loses no report.

Revision ID: 0021_staff4
Revises: 0020_restore2
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021_staff4"
down_revision = "0020_restore2"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision (plain ALTER TABLE: a copied SQLite table would lose WITHOUT ROWID)."""
    op.add_column("export_head", sa.Column("confirmed", sa.Integer(), nullable=True))


def downgrade() -> None:
    """Undo this revision (SQLite 3.35 or later drops columns in place).

    Without it exports carry again only what `raazdar export --resend` asks for, as before.
    """
    op.execute("ALTER TABLE export_head DROP COLUMN confirmed")
