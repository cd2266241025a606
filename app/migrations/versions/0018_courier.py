"""Replies keep a source device's signed word that it cannot open them.

`raazdar-submit` signs, with the codename's key, that it holds no secret of the
one-time prekey a reviewer's reply is sealed to (a wiped phone, a state put
back from a copy). The server keeps the statement on the reply and exports
it, so the reviewers learn the reply is lost instead of taking it as read.

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    # Plain ALTER TABLE (no batch copy): a copied SQLite table would lose
    # WITHOUT ROWID, and with it the guarantee that row order reveals nothing.
    op.add_column("replies", sa.Column("unheld", sa.Text(), nullable=True))


def downgrade() -> None:
    """Undo this revision (SQLite 3.35 or later drops columns in place)."""
    op.execute("ALTER TABLE replies DROP COLUMN unheld")
