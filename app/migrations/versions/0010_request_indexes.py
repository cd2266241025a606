"""Spent challenges by their day, uploads by the day they were last active.

Every signed request deletes the challenges of past days, and every upload's start looks
for the idle uploads: without these, each read every row of its table, a flood's included.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_index(
        op.f("ix_used_challenges_expires_day"), "used_challenges", ["expires_day"], unique=False
    )
    op.create_index(op.f("ix_uploads_active_day"), "uploads", ["active_day"], unique=False)


def downgrade() -> None:
    """Undo this revision."""
    op.drop_index(op.f("ix_uploads_active_day"), table_name="uploads")
    op.drop_index(op.f("ix_used_challenges_expires_day"), table_name="used_challenges")
