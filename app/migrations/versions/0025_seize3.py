"""Exports that found nothing are counted per account until the sweep: `export_presses`.

Audited at once (`export-nothing`), each press stood in the log between two
exports, so the one that found a report said it came after the press. Now the
sweep audits each account's count once.

Revision ID: 0025_seize3
Revises: 0024_login3
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0025_seize3"
down_revision = "0024_login3"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "export_presses",
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("presses", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("actor"),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    """Undo this revision: presses not yet audited are lost with the table (counts, no more)."""
    op.drop_table("export_presses")
