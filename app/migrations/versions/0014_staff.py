"""The throttle keeps the previous window's failures too; app hosts pass one run key around.

The throttle's `previous` column: no window's edge doubles its limit.
`run_hosts` and `run_key_offers`: hosts on one database share one run key
(`app.runshare`), so a code spent on one is spent on all.

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
    op.create_table(
        "run_hosts",
        sa.Column("host", sa.String(64), primary_key=True),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "run_key_offers",
        sa.Column("host", sa.String(64), primary_key=True),
        sa.Column("offerer", sa.String(64), primary_key=True),
        sa.Column("sealed", sa.String(200), nullable=False),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    """Undo this revision (SQLite 3.35 or later drops columns in place)."""
    op.drop_table("run_key_offers")
    op.drop_table("run_hosts")
    op.execute("ALTER TABLE throttle DROP COLUMN previous")
