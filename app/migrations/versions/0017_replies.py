"""Sources keep the number of the status notice they are shown.

Reply bundles of format 3 number each notice per source (the workstation's
count of notices issued to it). The server keeps the number of the notice it
shows, and a notice of a lower number, in a bundle kept back and handed in
late, does not replace it. Notices from before numbering have none.

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    # Plain ALTER TABLE (no batch copy): a copied SQLite table would lose
    # WITHOUT ROWID, and with it the guarantee that row order reveals nothing.
    op.add_column("sources", sa.Column("notice_seq", sa.Integer(), nullable=True))


def downgrade() -> None:
    """Undo this revision (SQLite 3.35 or later drops columns in place)."""
    op.execute("ALTER TABLE sources DROP COLUMN notice_seq")
