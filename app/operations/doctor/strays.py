"""What lies in the instance that Raazdar did not put there: a seizer reads it with the rest.

The instance directory is the raazdar user's home (deploy/README.md §1.2), so
whatever a tool run as that user keeps in its home lands beside the keys:
`sqlite3`'s history of every query typed, a shell's, Python's or psql's
history, `less`'s and vim's (searches, registers), an editor's swap or backup
copy of config.json, caches. A crash can leave a half-written key or config
(`.NAME.*.part`, `.config.json.new`), and a hand a copy of the database or an
unencrypted backup. Owner-only modes do not help: the permissions check passes
them once `chmod go=` ran, and their bytes are there for whoever takes the disk.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import Final

from app.files import Entry, names
from app.instance import CONFIG_NAME, RESTORED_NAME, InstancePaths
from app.kdf_pool import SLOT_DIR
from app.operations.doctor.verdict import Check, Status
from app.operations.rotation import PENDING_SIGNING_NAME

NAME: Final = "strays"
# What Raazdar itself keeps at the top of an instance (besides its SQLite database).
OWN: Final = frozenset(
    {
        CONFIG_NAME,
        "secret_key",
        "server_signing_key",
        PENDING_SIGNING_NAME,
        "secret_key.next",  # a secret key rotation cut off: the server refuses to start
        RESTORED_NAME,  # the startup check fails on it
        "keyring",
        "store",
        "tor",
        "demo-keys",
        SLOT_DIR,
        # PostgreSQL's password, where deploy/README.md §2.1 puts it (the user's home).
        ".pgpass",
    }
)
DATABASE_FILES: Final = ("", "-wal", "-shm", "-journal")
_SHOWN: Final = 8
_KINDS: Final = (
    (re.compile(r"\.part$|^\.config\.json\.new$"), "a half-written key or config"),
    (re.compile(r"history|^\.lesshst$|^\.viminfo$|^\.wget-hsts$"), "a tool's history"),
    (re.compile(r"\.sw[a-p]$|~$|^\.#|^#.*#$"), "an editor's copy"),
    (re.compile(r"^\.(cache|local|config|ssh|gnupg|sqliterc|psqlrc)$"), "a tool's files"),
    (
        re.compile(r"\.(db|sqlite3?|bak|backup|old|orig|sql|dump|tar|tgz|gz|xz|zst|age)$|\.db\."),
        "a copy of the database, or a backup",
    ),
)


def strays_check(paths: InstancePaths, database: Path | None) -> Check:
    """Fail on histories, editor copies, half-written keys and copies in the instance; warn
    on any other name Raazdar does not use."""
    own = set(OWN)
    if database is not None and database.resolve().parent == paths.root.resolve():
        own |= {database.name + suffix for suffix in DATABASE_FILES}
    found = sorted(
        e.name for e in names(paths.root) if e.name not in own and not _to_nothing(paths.root, e)
    )
    harmful = [(n, kind) for n in found if (kind := _kind(n)) is not None]
    if harmful:
        shown = ", ".join(f"{n} ({kind})" for n, kind in harmful[:_SHOWN])
        more = f" and {len(harmful) - _SHOWN} more" if len(harmful) > _SHOWN else ""
        return Check(
            NAME,
            Status.FAIL,
            f"left in the instance for whoever seizes it: {shown}{more}: remove each "
            "(`shred -u FILE`, `rm -r` a directory); the instance is the raazdar user's home, "
            "so run no tool as that user in it",
        )
    if found:
        return Check(
            NAME,
            Status.WARN,
            f"not Raazdar's: {', '.join(found[:_SHOWN])}: whoever seizes the instance reads "
            "it with the rest; keep nothing else here",
        )
    return Check(NAME, Status.OK, "nothing in the instance but Raazdar's own files")


def _to_nothing(root: Path, entry: Entry) -> bool:
    """Whether the name is a link to /dev/null, where deploy/README.md §1.2 sends histories."""
    return stat.S_ISLNK(entry.info.st_mode) and os.readlink(root / entry.name) == os.devnull


def _kind(name: str) -> str | None:
    """What a name left in the instance is, if it is something to remove."""
    return next((kind for pattern, kind in _KINDS if pattern.search(name)), None)
