"""Sources say whether they ever filed.

The API makes an account before anything is sent, one a minute per Tor circuit:
one that never sent anything is removed by the purge two days on, not a year.
Accounts made before this revision are taken as ones that filed.

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    # Plain ALTER TABLE (no batch copy): a copied SQLite table would lose
    # WITHOUT ROWID, and with it the guarantee that row order reveals nothing.
    op.add_column(
        "sources", sa.Column("filed", sa.Boolean(), server_default=sa.true(), nullable=False)
    )


def downgrade() -> None:
    """Undo this revision (SQLite 3.35 or later drops columns in place)."""
    op.execute("ALTER TABLE sources DROP COLUMN filed")
