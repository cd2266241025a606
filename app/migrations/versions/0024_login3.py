"""A source's login carries a tag only its codename makes, so a login ends the others.

A phone taken with a live login kept it, and the reply-opening key its row holds, until
its idle deadline: the source, signing in again elsewhere, could not end it. A source's
login row now carries a keyed digest of its account's key and the day
(`sessions.login_tag`, `app.services.sources.login_tags`), computable only with the
codename: a login deletes every other row carrying its account's tag.

Revision ID: 0024_login3
Revises: 0023_seize2
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024_login3"
down_revision = "0023_seize2"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    # Plain ALTER TABLE (no batch copy): a copied SQLite table would lose WITHOUT ROWID.
    op.add_column("sessions", sa.Column("login_tag", sa.String(length=32), nullable=True))
    op.create_index("ix_sessions_login_tag", "sessions", ["login_tag"])


def downgrade() -> None:
    """Undo this revision (SQLite 3.35 or later drops columns in place)."""
    op.drop_index("ix_sessions_login_tag", table_name="sessions")
    op.execute("ALTER TABLE sessions DROP COLUMN login_tag")
