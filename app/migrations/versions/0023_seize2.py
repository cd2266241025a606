"""An item exported the day it came keeps no day of its own (`items.exported_day`).

Dated at once, an item that came before a day's export kept that day and one that
came after it the next export's: the items' days split the day's arrivals at the
export, which the audit log dates. Now such an item takes the day of the first
export on a later day, with every other item of its day (`exchange._date_exported`).
Rows written before are given what that rule gives them: an item dated its own
day takes the earliest later day an item of its day was dated, or none.

Revision ID: 0023_seize2
Revises: 0021_staff4
"""

from __future__ import annotations

from alembic import op

revision = "0023_seize2"
down_revision = "0021_staff4"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision: one UPDATE, so a migration killed midway left nothing half done."""
    op.execute(
        "UPDATE items SET exported_day = ("
        " SELECT min(later.exported_day) FROM items AS later"
        " WHERE later.received_day = items.received_day"
        " AND later.exported_day > later.received_day)"
        " WHERE exported AND exported_day = received_day"
    )


def downgrade() -> None:
    """Undo this revision: an exported item with no day went out on the day it came."""
    op.execute(
        "UPDATE items SET exported_day = received_day WHERE exported AND exported_day IS NULL"
    )
