"""Keyring forks seen in reports: a source shown a keyring the authorities did not install here.

`raazdar-submit` names, inside each envelope it seals, the version and digest of
the keyring it verified and sealed to (PROTOCOL §5.6.2). A server can show a
source's device a keyring other than the authorities' newest: a chain a
rotated-out authority set signed, handed to a device verifying from old pins,
that lists a reviewer of its own beside the real ones. The report then reaches
the reviewers as usual, and a copy goes to whoever that reviewer is; only the
name of the keyring sealed to, out of the server's reach, shows it.
"""

from __future__ import annotations

import hmac
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from crypto import SignedManifest
from crypto.envelope.metadata import KeyringSeen

HINT: Final = (
    "tell the administrators and the oversight body, not through the server: compare the "
    "keyring this workspace installed with the authorities' record (`keys show`), and ask "
    "the source, through the reviewers' replies, to pin the authorities' current fingerprints"
)


@dataclass(frozen=True)
class Fork:
    """An item sealed to a keyring of a version installed here, but not the one installed."""

    item: str
    designation: str
    version: int

    def message(self) -> str:
        """Say what the item shows and what it may have cost its source."""
        return (
            f"item {self.item} of source {self.designation} was sealed to a keyring v"
            f"{self.version} that is not the v{self.version} installed here: the server showed "
            "its source's device a keyring the authorities did not give this workspace (a "
            "fork), and a copy of what the source sent may have gone to keys of someone else's"
        )


def forked(
    conn: sqlite3.Connection, sealed: Iterable[tuple[str, str, KeyringSeen | None]]
) -> list[Fork]:
    """The items (id, designation, keyring named) sealed to a keyring that forks from ours.

    A version not installed here (before this workspace's first keyring, or after
    its newest) cannot be checked and is passed over.
    """
    installed: dict[int, bytes] | None = None
    found = []
    for item, designation, seen in sealed:
        if seen is None:
            continue
        if installed is None:
            installed = {
                version: SignedManifest.from_bytes(signed).manifest.digest()
                for version, signed in conn.execute("SELECT version, signed FROM keyrings")
            }
        here = installed.get(seen.version)
        if here is not None and not hmac.compare_digest(here, seen.digest):
            found.append(Fork(item, designation, seen.version))
    return found
