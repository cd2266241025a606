"""A second administrator, present: what one administrator must not do alone needs two.

Retiring the keys of a reviewer the keyring in force lists, or giving the
administrator's role, shuts colleagues out or lets one more in. One
administrator alone could give the role to an accomplice, then retire every
colleague's keys. So a second administrator brings their own key file and types
its passphrase: their key must be enrolled here, in service, and theirs an
administrator's role the keyring in force still grants (`Unlocked.is_admin`).
"""

from __future__ import annotations

from dataclasses import replace

from crypto import KeyFile, VerifyKey
from crypto.errors import CryptoError
from review.keys.ceremony import CeremonyError
from review.workspace import Unlocked, roster


def second_admin(u: Unlocked, file: KeyFile, passphrase: str) -> Unlocked:
    """Return `u` acting with the administrator whose key file this is, once it unlocks."""
    try:
        pair = file.unlock(passphrase)
    except CryptoError as exc:
        raise CeremonyError(
            "the second administrator's key file does not open with that passphrase"
        ) from exc
    if pair.signing is None:
        raise CeremonyError("the second administrator's key file holds no signing key")
    # The roles are the roster's: one written on the disk makes no second administrator.
    roster.check(u.conn, u.key)
    held = pair.signing.verify_key
    rows = u.conn.execute("SELECT reviewer, signing_key FROM reviewer_keys WHERE NOT retired")
    found = [r for r, key in rows if VerifyKey.from_text(key) == held]
    if not found:
        raise CeremonyError("the second administrator's key is not a key in service here")
    other = replace(u, reviewer=found[0])
    if other.reviewer == u.reviewer:
        raise CeremonyError(
            "the second administrator is the reviewer acting",
            hint="another administrator brings their own key file",
        )
    if not other.is_admin:
        raise CeremonyError(
            f"{other.reviewer} is no administrator here (or the keyring in force dropped them)"
        )
    return replace(u, second=other.reviewer)
