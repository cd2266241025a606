"""The submission API: source signing keys, resumable uploads, spent request challenges.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    # Plain ALTER TABLE (no batch copy): a copied SQLite table would lose
    # WITHOUT ROWID, and with it the guarantee that row order reveals nothing.
    op.add_column("sources", sa.Column("signing_key", sa.String(length=100), nullable=True))
    op.create_table(
        "uploads",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("source_id", sa.String(length=32), nullable=False),
        sa.Column("submission_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("active_day", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(["source_id"], ["sources.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sqlite_with_rowid=False,
    )
    op.create_index(op.f("ix_uploads_source_id"), "uploads", ["source_id"], unique=False)
    op.create_table(
        "used_challenges",
        sa.Column("nonce", sa.LargeBinary(length=16), nullable=False),
        sa.Column("expires_day", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("nonce"),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    """Undo this revision (SQLite 3.35 or later drops columns in place)."""
    op.drop_table("used_challenges")
    op.drop_index(op.f("ix_uploads_source_id"), table_name="uploads")
    op.drop_table("uploads")
    op.execute("ALTER TABLE sources DROP COLUMN signing_key")
