"""One-time reply prekeys of `raazdar-submit` sources: filed at import, each sealed to once.

A report from `raazdar-submit` carries four X-Wing public keys whose secrets
only the source's device holds and deletes once it has read a reply sealed to
one (docs/PROTOCOL.md §5A.9). The importer files them, after the binding that
commits to them verifies, under the report, its source's designation and the
codename signing key that signed them. A reply to a report takes the newest
prekey not yet used that the *same signer* gave for the same designation, and
marks it used in the transaction that records the reply: a prekey is used
once, and one that a later bundle brings again stays used. Scoping by signer is
the defence against a compromised server, which can seal a report of its own
under a source's designation with a binding made by a key of its own: its
prekeys are never used for a reply to a report the source's device signed.
"""

from __future__ import annotations

import json
import sqlite3

from crypto import HybridPublicKey, VerifyKey
from crypto.binding import ReplyPrekeys
from review.errors import ImportRefused, ReviewError

SERVER_HINT = (
    "the server (or whoever made this bundle with its key) may be compromised: "
    "import nothing more from it and tell the administrators"
)


class NoPrekeyLeft(ReviewError):
    """The source gave one-time prekeys and every one is used: forward secrecy ran out."""


def in_report(record: bytes) -> ReplyPrekeys | None:
    """The reply prekeys a report record carries, if any; malformed ones raise `CryptoError`."""
    if b'"reply_prekeys"' not in record:
        return None  # every browser report: no second parse of its record
    try:
        obj = json.loads(record)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None  # not a record of raazdar-submit: it carries no prekeys
    if not isinstance(obj, dict) or "reply_prekeys" not in obj:
        return None
    return ReplyPrekeys.from_json(obj["reply_prekeys"])


def file(
    conn: sqlite3.Connection, source: str, report: int, signer: VerifyKey, prekeys: ReplyPrekeys
) -> None:
    """File a verified binding's prekeys under its report; refuse a second signer for a report."""
    others = conn.execute(
        "SELECT 1 FROM reply_prekeys WHERE report = ? AND signer != ?", (report, signer.to_text())
    ).fetchone()
    if others is not None:
        raise ImportRefused(
            f"bundle refused: it gives report {report} reply prekeys signed by a second key "
            "(replies would go to someone else)",
            hint=SERVER_HINT,
        )
    conn.executemany(
        "INSERT OR IGNORE INTO reply_prekeys (source, report, signer, key) VALUES (?, ?, ?, ?)",
        [(source, report, signer.to_text(), key.to_text()) for key in prekeys.keys],
    )


def take(conn: sqlite3.Connection, report: int) -> HybridPublicKey | None:
    """Mark used and return the newest unused prekey for a reply to `report`.

    None if neither the report nor its source brought prekeys (a browser
    source); `NoPrekeyLeft` if its signer's are all used, or if the report brought
    none though its source did (an old report, or a copy of a report replayed as new).
    Call inside the transaction that records the reply.
    """
    row = conn.execute(
        "SELECT source, signer FROM reply_prekeys WHERE report = ? LIMIT 1", (report,)
    ).fetchone()
    if row is None:
        if _uses_prekeys(conn, report):
            raise NoPrekeyLeft(
                f"report {report} brought no one-time reply keys, though its source's device "
                "gave some with another report: a reply to it would be sealed to their "
                "codename key, which is NOT forward-secret",
                hint="reply to their newest report instead, or write it with "
                "`--allow-codename-key` to send it anyway",
            )
        return None
    found = conn.execute(
        "SELECT seq, key FROM reply_prekeys WHERE source = ? AND signer = ? AND used = 0"
        " ORDER BY seq DESC LIMIT 1",
        row,
    ).fetchone()
    if found is None:
        raise NoPrekeyLeft(
            f"report {report}: the source's one-time reply keys are all used; a reply now "
            "would be sealed to their codename key, which is NOT forward-secret",
            hint="write it with `--allow-codename-key` to send it anyway, or wait for the "
            "source's next report, which brings four more keys",
        )
    conn.execute("UPDATE reply_prekeys SET used = 1 WHERE seq = ?", (found[0],))
    return HybridPublicKey.from_text(found[1])


def _uses_prekeys(conn: sqlite3.Connection, report: int) -> bool:
    """Whether the report's source designation has prekeys on file from any report."""
    row = conn.execute(
        "SELECT 1 FROM reply_prekeys WHERE source = (SELECT source FROM reports WHERE num = ?)"
        " LIMIT 1",
        (report,),
    ).fetchone()
    return row is not None


def left(conn: sqlite3.Connection, report: int) -> int | None:
    """How many prekeys a reply to `report` could still use; None if it brought none."""
    row = conn.execute(
        "SELECT source, signer FROM reply_prekeys WHERE report = ? LIMIT 1", (report,)
    ).fetchone()
    if row is None:
        return None
    count = conn.execute(
        "SELECT count(*) FROM reply_prekeys WHERE source = ? AND signer = ? AND used = 0", row
    ).fetchone()[0]
    return int(count)
