"""The audit log: every action an entry, hash-chained and signed by the reviewer who did it.

Each record keeps in the clear only what verification needs: its sequence
number, its actor (whose keys may sign it) and the signing keys it enrols.
What it did, to which report, when, and what was set (a category, a note's
text) is one record sealed under the workspace key, padded, so the log tells
nobody without a passphrase which reports were worked on, how, or at what
time. (Entries written before schema version 3 keep their time, action and
report in the clear: signatures cover them.) The chain (`crypto.chain`) and the
Ed25519 signatures cover the sealed form, so anyone can verify the log without
unlocking: an edited, removed or reordered entry breaks its link, and a forged
one lacks the signature of a key that an earlier entry enrolled. The newest
link is also kept apart (`review.workspace.head`), tagged under the workspace key
and checked at unlock, so losing the last entries is found too. A rollback of
the whole database to an older copy, or a log forged whole from its first entry
by someone with a key of their own, is not: that needs an anchor outside the
workspace (the keyring's reviewer keys, and the head that `audit verify` prints
for reviewers to note).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any, Final

from crypto import GENESIS, VerifyKey, chain_link
from crypto.encoding import b64decode, b64encode, canonical_json, parse_json_object
from crypto.errors import CryptoError
from review.errors import UnlockError
from review.workspace import Unlocked, Workspace, head

SIG_CONTEXT_AUDIT: Final = b"raazdar review audit v1"
# Records with this format seal their time, action, target and detail together.
FORMAT: Final = 3


@dataclass(frozen=True)
class Entry:
    """One audit entry as stored."""

    seq: int
    at: str
    actor: str
    action: str
    target: int | None
    detail: dict[str, Any] | None


@dataclass(frozen=True)
class Verdict:
    """The result of verifying the log: entries checked, the head, the first problem if any."""

    entries: int
    head: str
    problem: str | None

    @property
    def ok(self) -> bool:
        """Say whether the whole log verified."""
        return self.problem is None


def append(
    u: Unlocked,
    action: str,
    target: int | None = None,
    detail: dict[str, Any] | None = None,
    *,
    enrols: tuple[str, VerifyKey] | None = None,
) -> int:
    """Add an entry inside the caller's transaction; returns its sequence number.

    `enrols` names a reviewer and a signing key this entry introduces: it is in
    the clear, so verification learns every key it may trust from the log itself.
    """
    require_current(u)
    conn = u.conn
    row = conn.execute("SELECT seq, link FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    seq, previous = (row[0] + 1, bytes.fromhex(row[1])) if row else (1, GENESIS)
    what = {
        "at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "action": action,
        "target": target if target is not None else 0,
        "detail": detail,
    }
    record = {
        "format": FORMAT,
        "seq": seq,
        "actor": u.reviewer,
        "sealed": b64encode(u.key.seal_record(canonical_json(what), _context(seq))),
        "enrols": (
            {"reviewer": enrols[0], "signing_key": enrols[1].to_text()}
            if enrols is not None
            else None
        ),
    }
    link = chain_link(previous, record)
    signature = u.signing.sign(SIG_CONTEXT_AUDIT, link)
    conn.execute(
        "INSERT INTO audit VALUES (?, ?, ?, ?, ?)",
        (
            seq,
            canonical_json(record).decode("utf-8"),
            link.hex(),
            u.signing.verify_key.to_text(),
            b64encode(signature),
        ),
    )
    head.write(conn, u.key, seq, link)
    return seq


def require_current(u: Unlocked) -> None:
    """Refuse to write under a key a rewrap replaced since `u` unlocked (under the write lock).

    What it wrote would be sealed, or tagged, under a key the workspace no longer
    opens (and a retired key's holder may).
    """
    if not u.current:
        raise UnlockError(
            "the workspace was re-sealed under a new key since this session unlocked it:"
            " nothing was written",
            hint="run the command again",
        )


def entries(u: Unlocked, *, target: int | None = None) -> list[Entry]:
    """Every entry (or those about one report), with details unsealed."""
    query = "SELECT seq, record FROM audit ORDER BY seq"
    out = []
    for seq, text in u.conn.execute(query):
        record = parse_json_object(text.encode("utf-8"), max_bytes=1 << 20)
        if record.get("format") == FORMAT:
            what = json.loads(u.open_old_record(b64decode(record["sealed"]), _context(seq)))
            detail = what.get("detail")
        else:
            what = record
            detail = None
            if record.get("detail"):
                raw = u.open_old_record(b64decode(record["detail"]), _context(seq))
                detail = json.loads(raw)
        if target is not None and what.get("target") != target:
            continue
        out.append(
            Entry(
                seq=seq,
                at=str(what.get("at")),
                actor=str(record.get("actor")),
                action=str(what.get("action")),
                target=what.get("target") or None,
                detail=detail,
            )
        )
    return out


def verify(workspace: Workspace) -> Verdict:
    """Check every link and signature from the first entry; name the first problem.

    Which keys may sign for whom is learnt from the log alone: the first entry
    enrols the first reviewer and is signed by that reviewer's key, and each
    later key is introduced by a signed entry. So a key slipped into the
    database's tables cannot re-sign anything.
    """
    conn = workspace.conn
    signers: dict[str, set[str]] = {}
    previous, expected, count = GENESIS, 1, 0
    rows = conn.execute("SELECT seq, record, link, signer, signature FROM audit ORDER BY seq")
    for seq, text, link_hex, signer_text, signature in rows:
        if seq != expected:
            return Verdict(count, previous.hex(), f"entry {expected} is missing")
        try:
            record = parse_json_object(text.encode("utf-8"), max_bytes=1 << 20)
        except CryptoError:
            return Verdict(count, previous.hex(), f"entry {seq} was altered (unreadable)")
        if record.get("seq") != seq:
            return Verdict(
                count,
                previous.hex(),
                f"entry {seq} is out of order (it holds entry {record.get('seq')})",
            )
        try:
            link = chain_link(previous, record)
        except (CryptoError, ValueError):
            return Verdict(count, previous.hex(), f"entry {seq} was altered (unreadable)")
        if link.hex() != link_hex:
            return Verdict(count, previous.hex(), f"entry {seq} was altered")
        enrols = record.get("enrols")
        if enrols is not None and not (
            isinstance(enrols, dict)
            and isinstance(enrols.get("reviewer"), str)
            and isinstance(enrols.get("signing_key"), str)
        ):
            return Verdict(count, previous.hex(), f"entry {seq} was altered")
        if seq == 1:
            sealed_init = record.get("format") == FORMAT
            if enrols is None or not (sealed_init or record.get("action") == "init"):
                return Verdict(count, previous.hex(), "entry 1 is not the workspace's init entry")
            if enrols["reviewer"] != record.get("actor"):
                return Verdict(count, previous.hex(), "entry 1 enrols someone other than its actor")
            signers[enrols["reviewer"]] = {enrols["signing_key"]}
        problem = _signature_problem(signers, record, signer_text, signature, link)
        if problem is not None:
            return Verdict(count, previous.hex(), f"entry {seq}: {problem}")
        if enrols is not None:
            signers.setdefault(enrols["reviewer"], set()).add(enrols["signing_key"])
        previous, expected, count = link, expected + 1, count + 1
    if head.stored(conn) != head.text(count, previous):
        return Verdict(count, previous.hex(), f"entries after entry {count} are missing")
    return Verdict(count, previous.hex(), None)


def _signature_problem(
    signers: dict[str, set[str]],
    record: dict[str, Any],
    signer_text: str,
    signature: str,
    link: bytes,
) -> str | None:
    if signer_text not in signers.get(str(record.get("actor")), set()):
        return "signed by a key that is not the actor's"
    try:
        VerifyKey.from_text(signer_text).verify(SIG_CONTEXT_AUDIT, link, b64decode(signature))
    except CryptoError:
        return "its signature does not verify"
    return None


def _context(seq: int) -> bytes:
    return f"audit:{seq}".encode("ascii")
