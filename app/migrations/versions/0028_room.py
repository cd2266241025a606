"""An unfinished API upload keeps the day it began (`uploads.started_day`).

A flood of unfinished uploads from free accounts, each kept alive by a chunk a
day, held the disk at the tenth no API upload takes, and every other source's
upload was refused for as long. While the disk is short, uploads begun before
yesterday now make room for others (`app.services.resumable.make_room`): the day
an upload began says which. Uploads under way at the upgrade count from their
last chunk's day, the latest day they can be known to have begun by.

Revision ID: 0028_room
Revises: 0027_bound
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0028_room"
down_revision = "0027_bound"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision: each upload under way begun, as far as is known, on its last day."""
    # Plain ALTER TABLE (no batch copy): a copied SQLite table would lose WITHOUT ROWID.
    op.add_column("uploads", sa.Column("started_day", sa.Date(), nullable=True))
    op.execute("UPDATE uploads SET started_day = active_day")
    op.create_index(op.f("ix_uploads_started_day"), "uploads", ["started_day"], unique=False)


def downgrade() -> None:
    """Undo this revision (SQLite 3.35 or later drops columns in place)."""
    op.drop_index(op.f("ix_uploads_started_day"), table_name="uploads")
    op.execute("ALTER TABLE uploads DROP COLUMN started_day")
