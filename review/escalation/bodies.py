"""The registry of escalation bodies: who packets may be sealed to, and how to reach them.

Each body is one sealed record (name, jurisdiction, contact instructions, its
X25519 and Ed25519 public keys), bound to its row: a seized workstation does
not say which oversight bodies a workspace deals with, nor hold their keys in
the clear. Adding a body is a trust decision, so only an administrator may; so
is retiring one (its key lost, leaked or replaced, or the body no longer
trusted): nothing is sealed to a retired body again, and a packet drafted for
it before does not go.

A body speaks for whoever registered it: an administrator about to be revoked
could register one whose key is their own, under a name colleagues would
escalate to. So each record names the administrators who vouched for its key
(who added it, and a second one present), and once none of them keeps a key in
service here nothing is sealed or sent to it until an administrator in service
checks the key with the body and confirms it (`confirm_body`).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, replace
from typing import Any

from crypto import KeyFile, PublicKey, VerifyKey
from crypto.errors import CryptoError
from crypto.names import skeleton
from review.errors import InvalidValue, NotFound
from review.workspace import Unlocked, audit
from review.workspace.schema import transaction


@dataclass(frozen=True)
class Body:
    """An oversight body that packets can be sealed to."""

    id: int
    name: str
    jurisdiction: str
    contact: str
    encryption_key: PublicKey
    signing_key: VerifyKey | None
    added: str
    retired: str | None = None
    # Who vouched for the key (added or confirmed it); empty in records written before.
    vouched: tuple[str, ...] = ()

    def encode(self) -> bytes:
        """Serialise for sealing (everything but the row id)."""
        record: dict[str, Any] = {
            "name": self.name,
            "jurisdiction": self.jurisdiction,
            "contact": self.contact,
            "encryption_key": self.encryption_key.to_text(),
            "signing_key": self.signing_key.to_text() if self.signing_key else None,
            "added": self.added,
        }
        if self.retired is not None:
            record["retired"] = self.retired
        if self.vouched:
            record["vouched"] = list(self.vouched)
        return json.dumps(record, ensure_ascii=False, sort_keys=True).encode("utf-8")

    @classmethod
    def decode(cls, body_id: int, data: bytes) -> Body:
        """Parse what `encode` wrote."""
        obj = json.loads(data)
        signing = obj.get("signing_key")
        return cls(
            id=body_id,
            name=obj["name"],
            jurisdiction=obj["jurisdiction"],
            contact=obj["contact"],
            encryption_key=PublicKey.from_text(obj["encryption_key"]),
            signing_key=VerifyKey.from_text(signing) if signing else None,
            added=obj["added"],
            retired=obj.get("retired"),
            vouched=tuple(str(r) for r in obj.get("vouched", ())),
        )

    def refuse_if_retired(self) -> None:
        """Refuse to seal or send anything more to a retired body."""
        if self.retired is not None:
            raise InvalidValue(
                f"escalation body {self.name!r} was retired on {self.retired}: "
                "nothing is sealed to its key any more",
                hint="`bodies list` shows the bodies in use; draft the packet again for one",
            )


def keys_from_file(data: bytes) -> tuple[PublicKey, VerifyKey | None]:
    """Read a body's public keys from its key file (no passphrase needed)."""
    try:
        file = KeyFile.from_bytes(data)
    except CryptoError as exc:
        raise InvalidValue(f"not a usable key file: {exc}") from exc
    if file.encryption_public is None:
        raise InvalidValue("the body's key file holds no X25519 key")
    return file.encryption_public, file.signing_public


def add_body(
    u: Unlocked,
    *,
    name: str,
    jurisdiction: str,
    contact: str,
    encryption_key: PublicKey,
    signing_key: VerifyKey | None,
) -> Body:
    """Register a body (administrators only); its name must be new here.

    A retired body's name may come back with a new key, given by two administrators.
    """
    u.require_admin("add an escalation body")
    name = _line(name, "name", 200)
    jurisdiction = _line(jurisdiction, "jurisdiction", 200)
    contact = contact.strip()
    if not contact or len(contact) > 4000:
        raise InvalidValue("contact instructions must be 1-4000 characters")
    existing = list_bodies(u)
    # A retired body's name may come back with a new key; a retired key never does.
    if any(b.name.casefold() == name.casefold() and b.retired is None for b in existing):
        raise InvalidValue(f"a body named {name!r} is already registered")
    if any(b.encryption_key == encryption_key for b in existing):
        raise InvalidValue("a body with this key is (or was) registered")
    # A name read as another's is that name to whoever reads it: "NCHR" in Cyrillic
    # letters, "N.C.H.R.", an Arabic yeh for the Urdu one.
    like = skeleton(name)
    for b in existing:
        if b.retired is None and skeleton(b.name) == like:
            raise InvalidValue(
                f"{name!r} looks like the name of the body {b.name!r}: reviewers could not"
                " tell them apart",
                hint="choose a name no registered body's resembles (`bodies list`)",
            )
    if any(skeleton(b.name) == like for b in existing):
        # One alone retired the real body and gave its name (or one read as it) to a key of
        # her own: colleagues escalating to the name they know sealed their packets to her.
        u.require_second_admin("give a retired body's name (or one like it) to a new key")
    with transaction(u.conn) as conn:
        body_id = int(conn.execute("SELECT coalesce(max(id), 0) + 1 FROM bodies").fetchone()[0])
        body = Body(
            body_id,
            name,
            jurisdiction,
            contact,
            encryption_key,
            signing_key,
            dt.date.today().isoformat(),
            vouched=_vouchers_here(u),
        )
        conn.execute(
            "INSERT INTO bodies VALUES (?, ?)",
            (body_id, u.key.seal_record(body.encode(), body_context(body_id))),
        )
        detail: dict[str, Any] = {"body": body_id, "name": name, "key": encryption_key.to_text()}
        if len(body.vouched) > 1:
            detail["second"] = body.vouched[1]
        audit.append(u, "body-add", None, detail)
    return body


def confirm_body(u: Unlocked, which: str) -> Body:
    """Vouch for a body's key as an administrator in service (after checking it with the body).

    A body whose every voucher was revoked is sealed nothing until one confirms it.
    """
    u.require_admin("confirm an escalation body")
    body = find_body(u, which)
    if u.reviewer in body.vouched:
        return body
    return _rewrite(u, replace(body, vouched=(*body.vouched, u.reviewer)), "body-confirm")


def check_usable(u: Unlocked, body: Body) -> None:
    """Refuse to seal or send to `body` if it is retired, or nobody in service vouches for it."""
    body.refuse_if_retired()
    vouchers = vouched_for(u, body)
    if vouchers & in_service(u):
        return
    names = ", ".join(sorted(vouchers)) or "nobody known"
    raise InvalidValue(
        f"escalation body {body.name!r} was registered by {names}, whose keys are retired"
        " here: nothing is sealed to its key until an administrator in service confirms it",
        hint="an administrator compares its key's fingerprint (`bodies list`) with the body's"
        f" own, not through anyone who left, then runs `bodies confirm {body.id}`",
    )


def unconfirmed(u: Unlocked, found: list[Body]) -> frozenset[int]:
    """The ids of the bodies in `found` that nobody keeping a key in service here vouched for."""
    serving = in_service(u)
    older = _adders(u) if any(not b.vouched for b in found) else {}
    return frozenset(
        b.id for b in found if not (frozenset(b.vouched) or older.get(b.id, frozenset())) & serving
    )


def vouched_for(u: Unlocked, body: Body) -> frozenset[str]:
    """Who vouched for `body`'s key: its record's word, or the audit log's for an older record."""
    if body.vouched:
        return frozenset(body.vouched)
    return _adders(u).get(body.id, frozenset())


def _adders(u: Unlocked) -> dict[int, frozenset[str]]:
    """Who added each body, by the audit log: records written before they named their vouchers."""
    found: dict[int, set[str]] = {}
    for entry in audit.entries(u):
        if (
            entry.action == "body-add"
            and entry.detail
            and isinstance(entry.detail.get("body"), int)
        ):
            found.setdefault(entry.detail["body"], set()).add(entry.actor)
    return {body: frozenset(actors) for body, actors in found.items()}


def in_service(u: Unlocked) -> frozenset[str]:
    """The reviewers who keep a key not yet retired here."""
    rows = u.conn.execute("SELECT DISTINCT reviewer FROM reviewer_keys WHERE NOT retired")
    return frozenset(r for (r,) in rows)


def _vouchers_here(u: Unlocked) -> tuple[str, ...]:
    """The acting administrator, and the second one present if any."""
    if u.second is not None and u.second != u.reviewer:
        return (u.reviewer, u.second)
    return (u.reviewer,)


def list_bodies(u: Unlocked) -> list[Body]:
    """Every registered body, by number."""
    return [
        Body.decode(body_id, u.key.open_record(sealed, body_context(body_id)))
        for body_id, sealed in u.conn.execute("SELECT id, sealed FROM bodies ORDER BY id")
    ]


def find_body(u: Unlocked, which: str, *, retired: bool = False) -> Body:
    """A body in use by number or by name (any case); a retired one is refused unless asked for.

    A name given again to a new key after its old one was retired names the new one.
    """
    key = which.strip()
    found = [b for b in list_bodies(u) if key == str(b.id) or b.name.casefold() == key.casefold()]
    if not found:
        raise NotFound(f"no escalation body {which!r}", hint="`bodies list` shows them")
    in_use = [b for b in found if b.retired is None]
    if in_use:
        return in_use[0]
    if not retired:
        found[0].refuse_if_retired()
    return found[0]


def retire_body(u: Unlocked, which: str) -> Body:
    """Retire a body (administrators only): nothing is sealed or sent to its key again."""
    u.require_admin("retire an escalation body")
    body = find_body(u, which)
    return _rewrite(u, replace(body, retired=dt.date.today().isoformat()), "body-retire")


def _rewrite(u: Unlocked, body: Body, action: str) -> Body:
    """Seal `body`'s record again over its row, with the audit entry `action` naming it."""
    with transaction(u.conn) as conn:
        conn.execute(
            "UPDATE bodies SET sealed = ? WHERE id = ?",
            (u.key.seal_record(body.encode(), body_context(body.id)), body.id),
        )
        detail = {"body": body.id, "name": body.name, "key": body.encryption_key.to_text()}
        audit.append(u, action, None, detail)
    return body


def get_body(u: Unlocked, body_id: int) -> Body:
    """A body by its row number."""
    row = u.conn.execute("SELECT sealed FROM bodies WHERE id = ?", (body_id,)).fetchone()
    if row is None:
        raise NotFound(f"no escalation body {body_id}")
    return Body.decode(body_id, u.key.open_record(row[0], body_context(body_id)))


def _line(value: str, what: str, limit: int) -> str:
    value = " ".join(value.split())
    if not (0 < len(value) <= limit) or not value.isprintable():
        raise InvalidValue(f"{what} must be 1-{limit} printable characters")
    return value


def body_context(body_id: int) -> bytes:
    """The context a body's record is sealed under."""
    return f"body:{body_id}".encode("ascii")
