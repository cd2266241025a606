"""Staff accounts and the hash-chained audit log of their actions.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "staff_accounts",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("totp_secret", sa.String(length=200), nullable=True),
        sa.Column("totp_enrolled", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("totp_last_step", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("epoch", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("created_day", sa.Date(), nullable=False),
        sa.Column("last_login_day", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("username"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("link", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("link", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sqlite_with_rowid=False,
    )
    op.bulk_insert(
        sa.table(
            "audit_head",
            sa.column("id", sa.Integer()),
            sa.column("seq", sa.Integer()),
            sa.column("link", sa.LargeBinary()),
        ),
        [{"id": 1, "seq": 0, "link": bytes(32)}],
    )


def downgrade() -> None:
    """Undo this revision."""
    op.drop_table("audit_head")
    op.drop_table("audit_log")
    op.drop_table("staff_accounts")
