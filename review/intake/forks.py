"""Keyring forks seen in reports: a source shown a keyring the authorities did not install here.

`raazdar-submit` names, inside each envelope it seals, the version and digest of
the keyring it verified and sealed to (PROTOCOL §5.6.2). A server can show a
source's device a keyring other than the authorities' newest: a chain a
rotated-out authority set signed, handed to a device verifying from old pins,
that lists a reviewer of its own beside the real ones. The report then reaches
the reviewers as usual, and a copy goes to whoever that reviewer is; only the
name of the keyring sealed to, out of the server's reach, shows it.

Whoever holds the keyring's timestamp key and the server can also keep showing one
device an older keyring, genuine and stamped afresh, after a newer one (dropping a
reviewer, say) came into force: nothing the device checks tells a withheld successor
from none (docs/submit.md). A report it sealed names that older keyring; one that
arrives later than the older keyring's last honest timestamp could hold, counted from
the first bundle here in which the server said a newer one was in force, is named too.
"""

from __future__ import annotations

import datetime as dt
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


STALE_HINT: Final = (
    "tell the administrators, not through the server: a newer keyring was withheld from "
    "this source's device and an older one stamped for it, which needs the timestamp key "
    "(sign the next keyring with a new one); an upload begun under the older keyring and "
    "resumed late shows the same, so ask the source, through a reply, to get pins with the "
    "current keyring line"
)


@dataclass(frozen=True)
class Stale:
    """An item sealed to a keyring the server's own bundles had said was replaced, and when."""

    item: str
    designation: str
    version: int
    day: dt.date
    newer: int
    since: dt.date

    def message(self) -> str:
        """Say what the item shows and what it may have cost its source."""
        return (
            f"item {self.item} of source {self.designation} arrived on {self.day} sealed to "
            f"keyring v{self.version}, which the server's bundle of {self.since} had replaced "
            f"(v{self.newer} in force): its device was shown v{self.version} after every "
            "timestamp for it should have run out, which takes the timestamp key; a reviewer "
            "a later keyring dropped may have a copy of what the source sent"
        )


def stale(
    conn: sqlite3.Connection, sealed: Iterable[tuple[str, str, KeyringSeen | None, dt.date]]
) -> list[Stale]:
    """The items (id, designation, keyring named, day) sealed to a keyring replaced too long
    before they arrived.

    Replaced: a bundle imported here said a later version was in force on the day it was
    made. Too long: past that day by more than the older keyring's timestamps hold (its
    `max_days`), since the administrators stamp a keyring no more once the server has the
    next. The older keyring must be installed here (its policy is read from it); a bundle's
    day and version are the server's word, and one that hides the newer keyring from the
    workstation too is named by the import as sealing to a keyring older than it installed.
    """
    named = [(item, who, seen, day) for item, who, seen, day in sealed if seen is not None]
    if not named:
        return []
    claims = [
        (dt.date.fromisoformat(created), version)
        for created, version in conn.execute("SELECT created, keyring_version FROM bundles")
    ]
    if not claims:
        return []
    policies = {
        version: manifest.timestamp.max_days
        for version, manifest in (
            (v, SignedManifest.from_bytes(signed).manifest)
            for v, signed in conn.execute("SELECT version, signed FROM keyrings")
        )
        if manifest.timestamp is not None
    }
    # For each older keyring installed here: the first bundle saying a later one was in force.
    replaced = {
        version: min((c for c in claims if c[1] > version), default=None) for version in policies
    }
    found = []
    for item, designation, seen, day in named:
        if (first := replaced.get(seen.version)) is None:
            continue
        since, newer = first
        if day > since + dt.timedelta(days=policies[seen.version]):
            found.append(Stale(item, designation, seen.version, day, newer, since))
    return found


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
