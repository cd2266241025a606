"""Items keep no keyring version (`items.keyring_version` dropped).

Nothing read it. On the day a keyring was installed it told the reports that came
before the install from those after (the install is in the audit log, and the new
manifest's file dates it), where reports sealed to the same keys look alike in
every other column and in their headers.

Revision ID: 0026_seize4
Revises: 0025_seize3
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0026_seize4"
down_revision = "0025_seize3"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision (SQLite 3.35 or later drops columns in place).

    Plain ALTER TABLE, no batch copy: a copied SQLite table would lose WITHOUT ROWID.
    On PostgreSQL the values stay in the row versions until a rewrite, which
    `raazdar migrate` does at once, as the sweep does.
    """
    op.execute("ALTER TABLE items DROP COLUMN keyring_version")


def downgrade() -> None:
    """Undo this revision: every item says keyring version 1, which nothing reads."""
    op.add_column(
        "items",
        sa.Column("keyring_version", sa.Integer(), nullable=False, server_default="1"),
    )
