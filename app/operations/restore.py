"""Finishing a restore: the newest keyring vouched for again, not the backup's.

A backup holds the keyring of its day, and its database the audit log that
remembers which versions were installed (`app.keyring.load_keyring`): put back,
both go back together, and a keyring a later ceremony replaced (a reviewer's key
lost with a laptop) is in force again, its chain verifying and its timestamp,
valid for days, still fresh. Nothing on the server remembers the newer one. So
the `restored` mark each backup holds (`app.instance.refuse_unfinished_restore`)
names the backup's day, the restore adds the day it put the backup back, and the
purge that removes it refuses while no keyring timestamp issued on that day or
later has been installed since: only the holder of the timestamp key can make one,
and it vouches for the version newest when it was signed (and, format 2, the lowest
subkey list number of each reviewer). Issued on the backup's day was not enough: the
day's stick, or the backup itself, holds a timestamp for the backup's keyring, fresh
for days after a ceremony installed the next one. A keyring
that names no timestamp key has nothing to vouch for it: the operator's word
(`raazdar purge --keyring-reinstalled`) that the newest keyring and subkey lists
were installed again stands in.

The same purge drops every reply the backup brought back (`drop_replies`): one
its source deleted since would be back, readable with her codename.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from typing import Final

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.instance import InstancePaths
from app.keyring import fresh_timestamp, load_keyring
from app.models import Reply
from app.noatime import read_quietly
from app.operations.rotation import onion_addresses

# What the `restored` mark says to whoever finds it there.
NOTE: Final = (
    "This instance was put back from a backup made by `raazdar backup`. The server\n"
    "refuses to start while this file is here: undo what the backup brought back\n"
    "(deploy/README.md section 1.7), then `raazdar purge` removes it.\n"
)
_BACKUP_DAY: Final = "backup-day"
_STAMPED: Final = "timestamp-installed"
_PUT_BACK: Final = "put-back"
_LINE: Final = re.compile(r"^([a-z-]+): (\d{4}-\d{2}-\d{2})$", re.MULTILINE)
_MARK_MAX: Final = 64 * 1024
# Ids per DELETE: below SQLite's bound on a statement's parameters.
_CHUNK: Final = 500


def mark(day: dt.date) -> bytes:
    """The `restored` mark a backup made on `day` holds."""
    return f"{NOTE}{_BACKUP_DAY}: {day.isoformat()}\n".encode()


def put_back_line(day: dt.date) -> bytes:
    """The line a restore adds to the backup's `restored` mark: the day it put it back."""
    return f"{_PUT_BACK}: {day.isoformat()}\n".encode()


def note_timestamp(paths: InstancePaths, issued: dt.date) -> None:
    """Write in an unfinished restore's mark that a timestamp issued on `issued` was installed."""
    try:
        fd = os.open(paths.restored, os.O_WRONLY | os.O_APPEND | os.O_NOFOLLOW)
    except FileNotFoundError:
        return
    with os.fdopen(fd, "a", encoding="utf-8") as out:
        out.write(f"{_STAMPED}: {issued.isoformat()}\n")
        out.flush()
        os.fsync(out.fileno())


def keyring_unconfirmed(paths: InstancePaths, today: dt.date, *, reinstalled: bool) -> str | None:
    """Why the restore cannot finish yet for its keyring, or None if it can."""
    lines = _lines(paths)
    made = backup_day(paths, today)
    # Only a timestamp signed once the backup was back vouches for the newest keyring now;
    # one of the backup's day may be for the keyring a later ceremony replaced. A restore
    # by a release before this one wrote no such line: the backup's day, as it then did.
    since = max([made, *lines.get(_PUT_BACK, [])])
    state = load_keyring(paths, today)
    if state.manifest is None:
        return f"the keyring cannot be used ({state.problem}): install the newest again"
    if state.manifest.timestamp is None:
        if reinstalled:
            return None
        return (
            f"keyring v{state.manifest.version}, which came back with the backup, names no "
            "timestamp key, so nothing vouches that it is the newest: install the newest "
            "keyring and subkey lists again from the workstation (`raazdar keyring install`, "
            "`raazdar keyring subkeys install`), then `raazdar purge --keyring-reinstalled`"
        )
    stamp = fresh_timestamp(state, today)
    installed = [d for d in lines.get(_STAMPED, []) if d >= since]
    if stamp is not None and stamp.issued >= since and stamp.issued in installed:
        return None
    return (
        f"keyring v{state.manifest.version} came back with the backup of {made}, "
        "and a keyring a later ceremony installed (dropping a reviewer's lost key) would "
        "be forgotten: install the newest keyring and subkey lists from the workstation "
        "again (`raazdar keyring install`, `raazdar keyring subkeys install`) and a "
        f"keyring timestamp for it issued on {since} or later, the day the backup was put "
        "back (`raazdar keyring timestamp`; one of an earlier day may vouch for a keyring "
        "replaced since), then `raazdar purge` again"
    )


def onion_unlisted(paths: InstancePaths, today: dt.date) -> bool:
    """Whether the keyring in force lists onions and none of this host's.

    A backup holds the onion keys of its day: one rotated since (deploy/README.md
    §1.9, after a leak, say) is back, and would be published again. Only a warning:
    behind Onionbalance the keyring lists the master address, which no host holds.
    """
    manifest = load_keyring(paths, today).manifest
    listing = manifest.instance if manifest is not None else None
    if listing is None or not listing.onions:
        return False
    return not set(listing.onions) & set(onion_addresses(paths))


def backup_day(paths: InstancePaths, today: dt.date) -> dt.date:
    """The day the backup an unfinished restore put back was made (today, if its mark is older)."""
    return min(_lines(paths).get(_BACKUP_DAY, [today]))


def drop_replies(session: Session, day: dt.date) -> list[str]:
    """Delete the rows of every reply posted on or before the backup's `day`; their ids.

    A source deletes a reply so that whoever forces her codename out of her reads
    nothing; the backup kept it, and the server keeps no list of deletions (it would
    date and link them, and go back with the restore). So every reply the backup
    brought back goes: the reviewers, told by the next export (`RestoreMark`), send
    again what a source still needs. The caller commits, then retires the files
    (`EnvelopeStore.retire`): a failed commit leaves every reply readable as before.
    """
    doomed = list(session.execute(select(Reply.id).where(Reply.received_day <= day)).scalars())
    for chunk in range(0, len(doomed), _CHUNK):
        ids = doomed[chunk : chunk + _CHUNK]
        session.execute(
            delete(Reply).where(Reply.id.in_(ids)).execution_options(synchronize_session=False)
        )
    return doomed


def _lines(paths: InstancePaths) -> dict[str, list[dt.date]]:
    """The dated lines of the `restored` mark, by name."""
    try:
        text = read_quietly(paths.restored)[:_MARK_MAX].decode("utf-8", "replace")
    except FileNotFoundError:
        return {}
    found: dict[str, list[dt.date]] = {}
    for name, day in _LINE.findall(text):
        try:
            found.setdefault(name, []).append(dt.date.fromisoformat(day))
        except ValueError:
            continue
    return found
