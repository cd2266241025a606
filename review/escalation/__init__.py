"""Escalations: a packet drafted, countersigned where the rule says, sent, and followed up.

The room's other modules build what a packet holds: `packets` (its content),
`redaction` (pseudonyms for identifying details), `scrub` (attachments without
metadata), `bodies` (who packets may go to) and `opened` (a packet opened by
its body, as files).

`escalate` builds a packet (`review.escalation.packets`), seals it to the body
and to the workspace key, signs it, and keeps it in the workspace: wrapped in a
blob envelope, so the disk does not even show which body it is for. Where an
administrator has set the two-person rule, the packet is a draft until another
reviewer has read the very bytes that will be sent (they open with the
workspace key) and countersigned them. Exporting writes the packet for the
USB stick, marks it sent with a deadline, and moves its reports to
"escalated"; the body's acknowledgement and action are recorded as they come.
Every step is an audit entry; everything but ids is sealed, the body and the author too
(`review.workspace.escalations`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import secrets
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Final

from crypto import Metadata, VerifyKey, open_bytes, seal_bytes
from crypto.encoding import b64decode, b64encode
from crypto.errors import DecryptionError, VerificationError
from crypto.packet import (
    PacketContent,
    SealedPacket,
    Signature,
    check_countersignatures,
    read_content,
    seal_packet,
)
from review.casework import triage
from review.errors import InvalidValue, NotFound, ReviewError
from review.escalation.bodies import Body, check_usable, find_body, get_body, in_service
from review.escalation.packets import Confirm, Selection, build, check_reports
from review.escalation.redaction import Term
from review.workspace import Unlocked, audit, escalations, flush_names, head
from review.workspace.blobs import put_inline, read_blob
from review.workspace.schema import rebuild, transaction

# In the clear, and under the audit head's tag: lowered on the disk, unlock refuses.
POLICY_KEY: Final = head.RULE
DEFAULT_DEADLINE_DAYS: Final = 30
STATES: Final = ("draft", "ready", "sent", "acknowledged", "acted-on")
_BLOB: Final = Metadata("blob")


@dataclass
class Record:
    """An escalation's sealed state."""

    packet: str
    state: str
    reports: list[int]
    required: int
    created: str
    deadline_days: int
    signatures: list[dict[str, str]]
    redactions: list[dict[str, str]]
    files: list[dict[str, Any]]
    sent: str | None = None
    deadline: str | None = None
    acknowledged: str | None = None
    acted: str | None = None
    history: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Escalation:
    """One escalation: its row and its unsealed record."""

    id: int
    body: int
    author: str
    blob: str
    record: Record

    def overdue(self, today: dt.date | None = None) -> bool:
        """Say whether the body has not answered (or acted) by the deadline."""
        r = self.record
        if r.state not in ("sent", "acknowledged") or r.deadline is None:
            return False
        return (today or dt.date.today()) > dt.date.fromisoformat(r.deadline)

    @property
    def needs(self) -> int:
        """How many countersignatures, by other reviewers, are still missing."""
        people = {s["reviewer"] for s in self.record.signatures}
        return max(0, 1 + self.record.required - len(people))


@dataclass(frozen=True)
class Created:
    """What `escalate` made, and what the reviewer should know about it."""

    escalation: Escalation
    declined: int
    warnings: list[str]


def policy(u: Unlocked) -> int:
    """How many countersignatures a new packet needs (the two-person rule is 1)."""
    row = u.conn.execute("SELECT value FROM meta WHERE key = ?", (POLICY_KEY,)).fetchone()
    return int(row[0]) if row is not None else 0


def set_policy(u: Unlocked, countersignatures: int) -> None:
    """Set the rule for new packets (administrators only): 0, or 1 for two persons, …

    One administrator alone may make it stricter, not weaker: else she lifted the
    two-person rule and escalated alone, the very thing it forbids.
    """
    u.require_admin("set the escalation rule")
    if not 0 <= countersignatures <= 3:
        raise InvalidValue("countersignatures must be between 0 and 3")
    if countersignatures < policy(u):
        u.require_second_admin("weaken the escalation rule")
    with transaction(u.conn) as conn:
        conn.execute(
            "INSERT INTO meta VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (POLICY_KEY, str(countersignatures)),
        )
        audit.append(u, "escalation-rule", None, {"countersignatures": countersignatures})


def escalate(
    u: Unlocked,
    nums: Sequence[int],
    to: str,
    *,
    summary: str,
    selection: Selection,
    extra_terms: Iterable[Term] = (),
    confirm: Confirm,
    deadline_days: int = DEFAULT_DEADLINE_DAYS,
    writers: bool = False,
) -> Created:
    """Build, seal and sign a packet for a body; a draft if countersignatures are needed.

    `writers` has its corroboration count the reports' independent writers (`packets.build`).
    """
    if not 1 <= deadline_days <= 365:
        raise InvalidValue("the deadline is 1-365 days after sending")
    body = find_body(u, to)
    check_usable(u, body)
    required = policy(u)
    packet_id = secrets.token_hex(16)
    built = build(
        u,
        nums,
        body,
        packet_id=packet_id,
        summary=summary,
        selection=selection,
        extra_terms=extra_terms,
        confirm=confirm,
        countersignatures=required,
        writers=writers,
    )
    # The workspace's own copy: a packet's stanzas are X25519, as the body's key is.
    packet = seal_packet(built.content, u.signing, also=[u.key.packet_identity.public_key])
    record = Record(
        packet=packet_id,
        state="ready" if required == 0 else "draft",
        reports=list(nums),
        required=required,
        created=dt.date.today().isoformat(),
        deadline_days=deadline_days,
        signatures=[_signature(u, packet.signatures[0])],
        redactions=built.redactions,
        files=built.files,
        history=[_event(u, "drafted")],
    )
    wrapped = seal_bytes(packet.envelope, [u.key.public_key], _BLOB)
    blob = f"{secrets.token_hex(16)}.rze"
    # Kept in the database whatever its size, never as a file of its own in `blobs/`: a
    # file's birth time (statx, ext4's crtime), which no `utime` changes, would say to the
    # second when the report went to an oversight body, to whoever reads the disk. And the
    # file is rewritten after (`rebuild`), or the pages SQLite gave it would say as much.
    with transaction(u.conn) as conn:
        put_inline(u.workspace, blob, wrapped)
        esc_id = int(
            conn.execute(
                "INSERT INTO escalations (blob, sealed) VALUES (?, x'') RETURNING id", (blob,)
            ).fetchone()[0]
        )
        _save(u, esc_id, body.id, u.reviewer, record)
        detail = {
            "escalation": esc_id,
            "packet": packet_id,
            "body": body.id,
            "reports": list(nums),
            "redactions": len(built.redactions),
            "declined": built.declined,
            "files": len(built.files),
            "as_is": sum(1 for f in built.files if not f["scrubbed"]),
            "countersignatures": required,
        }
        audit.append(u, "escalate", None, detail)
    warnings = list(built.warnings)
    if not rebuild(u.conn):
        warnings.append(
            "the workspace's database could not be rewritten after the packet was stored (a"
            " full disk, or another raazdar-review reading it): until an escalation rewrites"
            " it, the order of its pages on the disk may show between which imports this"
            " packet was made"
        )
    return Created(Escalation(esc_id, body.id, u.reviewer, blob, record), built.declined, warnings)


def load(u: Unlocked, esc_id: int) -> Escalation:
    """One escalation, unsealed."""
    row = u.conn.execute(
        "SELECT id, blob, sealed FROM escalations WHERE id = ?", (esc_id,)
    ).fetchone()
    if row is None:
        raise NotFound(f"no escalation {esc_id}", hint="`escalation list` shows them")
    return _escalation(u, row)


def list_escalations(u: Unlocked) -> list[Escalation]:
    """Every escalation, newest last."""
    rows = u.conn.execute("SELECT id, blob, sealed FROM escalations ORDER BY id").fetchall()
    return [_escalation(u, row) for row in rows]


def packet(u: Unlocked, esc: Escalation) -> tuple[SealedPacket, PacketContent]:
    """The stored packet, its signatures verified, and its content (the workspace key opens it)."""
    envelope, _ = open_bytes(read_blob(u.workspace, esc.blob), [u.key.identity])
    signatures = tuple(
        Signature(VerifyKey.from_text(s["key"]), b64decode(s["sig"])) for s in esc.record.signatures
    )
    sealed = SealedPacket.from_bytes(SealedPacket(envelope, signatures).to_bytes())
    content = _read_own(u, sealed)
    if content.packet_id != esc.record.packet:
        raise ReviewError(f"escalation {esc.id} holds another packet")
    return sealed, content


def people(u: Unlocked) -> dict[VerifyKey, str]:
    """Who holds each signing key enrolled here, of reviewers in service: one person per reviewer.

    A revoked reviewer's keys are no one's: their signature, made before the
    revocation, counts for no packet that has not gone yet.
    """
    serving = in_service(u)
    rows = u.conn.execute("SELECT signing_key, reviewer FROM reviewer_keys")
    return {VerifyKey.from_text(key): reviewer for key, reviewer in rows if reviewer in serving}


def _refuse_revoked_signers(u: Unlocked, esc: Escalation, sealed: SealedPacket) -> None:
    """Refuse a packet that a reviewer revoked since signed, as its author or a countersigner.

    One about to be revoked (or whoever seized their key file) could otherwise leave
    drafts countersigned, or packets of their own, to go out on their word after.
    """
    serving = in_service(u)
    rows = u.conn.execute("SELECT signing_key, reviewer FROM reviewer_keys")
    owners = {VerifyKey.from_text(key): reviewer for key, reviewer in rows}
    revoked = sorted({owners.get(k, "a key not enrolled here") for k in sealed.signers} - serving)
    if revoked:
        raise ReviewError(
            f"escalation {esc.id} is signed by {', '.join(revoked)}, whose keys are retired"
            " here: a revoked reviewer's signature sends no packet",
            hint="draft it again (`escalation new`) and have a reviewer in service countersign",
        )


def _meets_rule(u: Unlocked, sealed: SealedPacket, content: PacketContent) -> bool:
    """Say whether enough distinct reviewers signed, by the rule in force and the packet's."""
    try:
        check_countersignatures(sealed, content, people(u), policy(u))
    except VerificationError:
        return False
    return True


def _read_own(u: Unlocked, sealed: SealedPacket) -> PacketContent:
    """Open the workspace's own copy: sealed to the workspace key of its day, maybe an old one."""
    for key in (u.key, *u.history):
        with contextlib.suppress(DecryptionError):
            return read_content(sealed, key.packet_identity)
    raise DecryptionError("the packet does not open with this workspace's keys")


def countersign(u: Unlocked, esc_id: int) -> Escalation:
    """Countersign a draft as a reviewer other than its author, once its bytes are checked."""
    esc = load(u, esc_id)
    if esc.record.state != "draft":
        raise InvalidValue(f"escalation {esc_id} is {esc.record.state}: nothing to countersign")
    if u.reviewer == esc.author or any(s["reviewer"] == u.reviewer for s in esc.record.signatures):
        raise InvalidValue(
            "a packet is countersigned by another reviewer",
            hint="the two-person rule needs a second person",
        )
    check_usable(u, body_of(u, esc))
    sealed, content = packet(u, esc)
    _refuse_revoked_signers(u, esc, sealed)
    authors = {
        row[0]
        for row in u.conn.execute(
            "SELECT signing_key FROM reviewer_keys WHERE reviewer = ?", (esc.author,)
        )
    }
    if content.author.to_text() not in authors:
        raise ReviewError(f"escalation {esc_id} is not signed by its author's key")
    signed = sealed.countersign(u.signing)
    record = replace(
        esc.record,
        signatures=[*esc.record.signatures, _signature(u, signed.signatures[-1])],
        history=[*esc.record.history, _event(u, "countersigned")],
    )
    if _meets_rule(u, signed, content):
        record = replace(record, state="ready")
    with transaction(u.conn):
        _save(u, esc_id, esc.body, esc.author, record)
        audit.append(u, "countersign", None, {"escalation": esc_id, "packet": record.packet})
    return replace(esc, record=record)


def export(u: Unlocked, esc_id: int, out: Path, today: dt.date | None = None) -> Escalation:
    """Write the packet to `out` (never over a file); the first export marks it sent."""
    esc = load(u, esc_id)
    if esc.record.state == "draft":
        raise InvalidValue(
            f"escalation {esc_id} needs {esc.needs} more countersignature(s) before it can go",
            hint=f"another reviewer runs `escalation countersign {esc_id}`",
        )
    if out.exists() or out.is_symlink():
        raise ReviewError(f"{out} already exists", hint="choose a new file name")
    first = esc.record.state == "ready"
    if first:
        # Drafted before its body was retired: the key it is sealed to is not trusted now.
        check_usable(u, body_of(u, esc))
        check_reports(u, esc.record.reports)
    sealed, content = packet(u, esc)
    if first:
        _refuse_revoked_signers(u, esc, sealed)
        try:
            check_countersignatures(sealed, content, people(u), policy(u))
        except VerificationError as exc:
            raise ReviewError(
                f"escalation {esc_id} does not meet the workspace's rule: {exc}",
                hint="draft it again (`escalation new`), so that the rule in force applies",
            ) from exc
    day = today or dt.date.today()
    record = esc.record
    if first:
        deadline = day + dt.timedelta(days=record.deadline_days)
        record = replace(
            record,
            state="sent",
            sent=day.isoformat(),
            deadline=deadline.isoformat(),
            history=[*record.history, _event(u, "sent")],
        )
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent)
    try:
        with os.fdopen(fd, "wb") as dst:
            dst.write(sealed.to_bytes())
            dst.flush()
            os.fsync(dst.fileno())
        with transaction(u.conn):
            _save(u, esc_id, esc.body, esc.author, record)
            detail = {"escalation": esc_id, "packet": record.packet, "out": str(out)}
            audit.append(u, "escalation-sent" if first else "escalation-export", None, detail)
            if first:
                # In the same transaction: moved after it, a kill between left the escalation
                # sent and its reports as they were, their sources never told, for good.
                for num in record.reports:
                    if triage.load_state(u, num).status != "escalated":
                        triage.move(u, num, "escalated")
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise
    # Only once the export is recorded: put in place first, a commit refused (a full disk,
    # another process reading) left a packet on the stick for an escalation not sent.
    try:
        os.replace(tmp_name, out)
        flush_names(out.parent)
    except OSError as exc:
        raise ReviewError(
            f"escalation {esc_id} was recorded as exported but its packet could not be put"
            f" at {out} ({exc.strerror})",
            hint=f"rename {tmp_name} to {out}, or export it again to a new file"
            f" (`escalation export {esc_id} --out …`)",
        ) from exc
    return replace(esc, record=record)


def acknowledge(
    u: Unlocked, esc_id: int, note: str | None = None, deadline: dt.date | None = None
) -> Escalation:
    """Record that the body acknowledged the packet; optionally a new deadline for action."""
    return _advance(u, esc_id, "acknowledged", ("sent",), note, deadline)


def acted(u: Unlocked, esc_id: int, note: str | None = None) -> Escalation:
    """Record that the body acted on the packet."""
    return _advance(u, esc_id, "acted-on", ("sent", "acknowledged"), note, None)


def body_of(u: Unlocked, esc: Escalation) -> Body:
    """The body an escalation is for."""
    return get_body(u, esc.body)


def _advance(
    u: Unlocked,
    esc_id: int,
    state: str,
    allowed: tuple[str, ...],
    note: str | None,
    deadline: dt.date | None,
) -> Escalation:
    esc = load(u, esc_id)
    if esc.record.state not in allowed:
        raise InvalidValue(
            f"escalation {esc_id} is {esc.record.state}: it cannot become {state}",
            hint="a packet is first exported (sent)",
        )
    today = dt.date.today().isoformat()
    record = replace(
        esc.record,
        state=state,
        history=[*esc.record.history, _event(u, state, note)],
    )
    if state == "acknowledged":
        record = replace(record, acknowledged=today)
    else:
        record = replace(record, acted=today)
    if deadline is not None:
        record = replace(record, deadline=deadline.isoformat())
    with transaction(u.conn):
        _save(u, esc_id, esc.body, esc.author, record)
        detail = {"escalation": esc_id, "note": note, "deadline": record.deadline}
        audit.append(u, f"escalation-{state}", None, detail)
    return replace(esc, record=record)


def _escalation(u: Unlocked, row: tuple[Any, ...]) -> Escalation:
    esc_id, blob, sealed = row
    obj = json.loads(u.key.open_record(sealed, escalation_context(esc_id)))
    # Beside the record's fields, sealed with them: which body it is for, and who wrote it.
    if "body" not in obj or "author" not in obj:
        # Sealed by a tool before schema 16, on a disk the first unlock could not write.
        raise ReviewError(
            f"escalation {esc_id} is kept as an older version kept it, its body and author in"
            " the clear: it is sealed at the first unlock that can write the workspace",
            hint="unlock the workspace where its disk can be written",
        )
    body, author = obj.pop("body"), obj.pop("author")
    return Escalation(esc_id, body, author, blob, Record(**obj))


def _save(u: Unlocked, esc_id: int, body: int, author: str, record: Record) -> None:
    sealed = {**asdict(record), "body": body, "author": author}
    data = json.dumps(sealed, ensure_ascii=False, sort_keys=True).encode("utf-8")
    u.conn.execute(
        "UPDATE escalations SET sealed = ? WHERE id = ?",
        (u.key.seal_record(data, escalation_context(esc_id)), esc_id),
    )


def _signature(u: Unlocked, signature: Signature) -> dict[str, str]:
    return {
        "reviewer": u.reviewer,
        "key": signature.key.to_text(),
        "sig": b64encode(signature.signature),
    }


def _event(u: Unlocked, event: str, note: str | None = None) -> dict[str, Any]:
    return {"on": dt.date.today().isoformat(), "by": u.reviewer, "event": event, "note": note}


def escalation_context(esc_id: int) -> bytes:
    """The context an escalation's record is sealed under."""
    return escalations.context(esc_id)
