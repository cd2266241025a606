"""The audit log by action.

The server reads from the log the newest keyring installed and the subkeys a
re-keying replaced, where files beside them can be rolled back: without this,
each read every entry of the log.

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_index(op.f("ix_audit_log_action"), "audit_log", ["action"], unique=False)


def downgrade() -> None:
    """Undo this revision."""
    op.drop_index(op.f("ix_audit_log_action"), table_name="audit_log")
