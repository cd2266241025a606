"""Revoking a reviewer, and who administers after them.

Two administrators together revoke at once (a key may have leaked); one alone
may not retire the keys of a reviewer the keyring in force lists, nor give the
role, or she could give it to an accomplice and shut every colleague out. Once
the authorities' keyring in force no longer lists a reviewer, any other
reviewer may retire their keys too: the authorities have decided, and the
workspace's only administrator, who cannot revoke themselves, must not stay in
service for want of another. A
revoked reviewer loses the administrator's role, and it passes to nobody by
that act: whoever ran first would hold it, a colleague about to be revoked
among them. Two administrators, or the threshold of the keyring's authorities in
force, give it (`grant`).
"""

from __future__ import annotations

from collections.abc import Sequence

from crypto import SigningKey
from crypto.keys import Fingerprint
from review.keys import keyring
from review.keys.ceremony import CeremonyError
from review.keys.rewrap import RewrapSummary, rewrap
from review.workspace import Unlocked, audit, roster, schema


def keys_in_service(u: Unlocked, reviewer: str) -> list[int]:
    """The numbers of `reviewer`'s keys not yet retired."""
    rows = u.conn.execute(
        "SELECT seq FROM reviewer_keys WHERE reviewer = ? AND NOT retired", (reviewer,)
    )
    return [seq for (seq,) in rows]


def revoke(u: Unlocked, reviewer: str, *, abandon: bool = False) -> tuple[RewrapSummary, bool]:
    """Retire every key of `reviewer` and re-seal; say whether nobody administers now.

    While the keyring in force lists them, only an administrator may (`rewrap`).
    """

    def record(after: Unlocked) -> None:
        after.conn.execute("UPDATE reviewers SET role = 'reviewer' WHERE id = ?", (reviewer,))

    _, summary = rewrap(u, retire=keys_in_service(u, reviewer), abandon=abandon, then=record)
    return summary, not administrators(u)


def administrators(u: Unlocked) -> list[str]:
    """The administrators who keep a key in service here and whom the keyring in force lists."""
    rows = u.conn.execute(
        "SELECT r.id FROM reviewers r WHERE r.role = 'admin' AND EXISTS"
        " (SELECT 1 FROM reviewer_keys k WHERE k.reviewer = r.id AND NOT k.retired)"
        " ORDER BY r.id"
    )
    current = keyring.in_force(u.workspace)
    listed = {r.id for r in current.recipients} if current is not None else None
    return [r for (r,) in rows if listed is None or r in listed]


def grant(u: Unlocked, reviewer: str, holders: Sequence[SigningKey]) -> list[Fingerprint]:
    """Make `reviewer` an administrator; return the authorities whose keys gave the role.

    An administrator gives it alone; anyone else needs the keys of the threshold
    of the authorities in force, unlocked here by their holders. Either way the
    keyring in force must list `reviewer`, and they must keep a key here. All is
    checked inside the write, so a revocation racing it is seen.
    """
    with schema.transaction(u.conn):
        # The roles are the roster's: one given on the disk is refused, this one recorded.
        roster.check(u.conn, u.key)
        given = _givers(u, reviewer, holders)
        u.conn.execute("UPDATE reviewers SET role = 'admin' WHERE id = ?", (reviewer,))
        roster.put(u.conn, u.key)
        detail: dict[str, object] = {"reviewer": reviewer, "authorities": [str(f) for f in given]}
        if not given:
            detail["second"] = u.second
        audit.append(u, "admin", None, detail)
    return given


def _givers(u: Unlocked, reviewer: str, holders: Sequence[SigningKey]) -> list[Fingerprint]:
    """The authorities in force among `holders`, once they (or an administrator) may give it."""
    current = keyring.in_force(u.workspace)
    if current is None:
        raise CeremonyError("no keyring is installed here", hint="install the keyring first")
    if all(r.id != reviewer for r in current.recipients):
        raise CeremonyError(f"the keyring in force does not list {reviewer}")
    if not keys_in_service(u, reviewer):
        raise CeremonyError(f"no reviewer {reviewer!r} has a key in service here")
    theirs = {a.key.fingerprint for a in current.authorities}
    given = sorted({k.verify_key.fingerprint for k in holders}, key=str)
    if not set(given) <= theirs:
        raise CeremonyError("a key file given is not an authority key of the keyring in force")
    if not holders and (not u.is_admin or u.second in (None, u.reviewer)):
        # One administrator alone could give it to an accomplice, and then the two retire
        # every colleague's keys: it takes two of them, or the authorities' threshold.
        raise CeremonyError(
            "only two administrators together, or the keyring's authorities, may give the role",
            hint=f"a second administrator brings their key file (--second-admin FILE), or"
            f" holders of {current.threshold} authority key(s) each give theirs with --key-file",
        )
    if holders and len(given) < current.threshold:
        raise CeremonyError(
            f"{len(given)} of the {current.threshold} authority signatures the keyring "
            "in force needs: the role is not given",
            hint="bring as many holders as the keyring's threshold, each with their key file",
        )
    return given
