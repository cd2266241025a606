"""A staff account may name the reviewer who holds it (`staff_accounts.reviewer`).

Revoking a reviewer in the keyring left their staff account as it was: until an
administrator removed it by hand, the revoked colleague logged in and downloaded
bundles whose older items their key file still opens. An account now carries the
signing-key fingerprint of the reviewer who holds it, if any, and the install of a
keyring that no longer lists them locks it (`app.reviewer_accounts.lock_revoked`).

Revision ID: 0027_bound
Revises: 0026_seize4
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0027_bound"
down_revision = "0026_seize4"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision: every account bound to nobody, as before."""
    # Plain ALTER TABLE (no batch copy): a copied SQLite table would lose WITHOUT ROWID.
    op.add_column("staff_accounts", sa.Column("reviewer", sa.String(length=64), nullable=True))


def downgrade() -> None:
    """Undo this revision (SQLite 3.35 or later drops columns in place)."""
    op.execute("ALTER TABLE staff_accounts DROP COLUMN reviewer")
