"""Revoking a reviewer: who may retire their keys here, and who administers after them.

An administrator revokes at once (a key may have leaked). Once the authorities'
keyring in force no longer lists a reviewer, any other reviewer may retire their
keys too: the authorities have decided, and the workspace's only administrator,
who cannot revoke themselves, must not stay in service for want of another. A
revoked reviewer loses the administrator's role; if nobody else holds it, it
passes to the reviewer who carried out the revocation, so that someone can still
enrol keys.
"""

from __future__ import annotations

from review.keys.rewrap import RewrapSummary, rewrap
from review.workspace import Unlocked, audit


def keys_in_service(u: Unlocked, reviewer: str) -> list[int]:
    """The numbers of `reviewer`'s keys not yet retired."""
    rows = u.conn.execute(
        "SELECT seq FROM reviewer_keys WHERE reviewer = ? AND NOT retired", (reviewer,)
    )
    return [seq for (seq,) in rows]


def revoke(u: Unlocked, reviewer: str, *, abandon: bool = False) -> tuple[RewrapSummary, bool]:
    """Retire every key of `reviewer` and re-seal; say whether the acting reviewer now administers.

    While the keyring in force lists them, only an administrator may (`rewrap`).
    """
    takes_over = not u.is_admin and not _other_admins(u, reviewer)

    def record(after: Unlocked) -> None:
        after.conn.execute("UPDATE reviewers SET role = 'reviewer' WHERE id = ?", (reviewer,))
        if takes_over:
            after.conn.execute("UPDATE reviewers SET role = 'admin' WHERE id = ?", (u.reviewer,))
            audit.append(after, "admin", None, {"reviewer": u.reviewer, "after": reviewer})

    _, summary = rewrap(u, retire=keys_in_service(u, reviewer), abandon=abandon, then=record)
    return summary, takes_over


def _other_admins(u: Unlocked, leaving: str) -> bool:
    """Say whether an administrator other than `leaving` keeps a key in service."""
    row = u.conn.execute(
        "SELECT 1 FROM reviewers r WHERE r.role = 'admin' AND r.id != ? AND EXISTS"
        " (SELECT 1 FROM reviewer_keys k WHERE k.reviewer = r.id AND NOT k.retired)",
        (leaving,),
    ).fetchone()
    return row is not None
