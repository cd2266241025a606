"""Opening replies on the device; one sealed to a reply prekey deletes that prekey first.

A reply sealed to one of this codename's one-time reply prekeys (an envelope
v2, docs/PROTOCOL.md §5A.9) opens with that prekey's secret from the sealed
state; the secret is then deleted and the state rewritten before the text is
returned to be shown, so a crash after the reply was shown cannot leave the key
behind. Afterwards no copy of that reply opens for anyone, this device and its
codename included. A reply sealed to the codename's key (every reply to a
browser source, and to a `raazdar-submit` source whose prekeys ran out) opens
as before and is marked as not forward-secret.

Such a reply opens at every run, and the day it is listed under is the
server's word, which no signature covers: a server in the wrong hands could
list a reviewer's old "meet our investigator on Friday" again under today's
day, or twice, to pass it off as a new request. The device keeps, sealed, the
day each was first shown here (`first_listed`), for as long as the server
lists it (`still_listed`). A reply of format 2 carries,
sealed and signed with its text, the day its reviewer wrote it (`crypto.reply`):
that day is shown, and a listing later by more than a stick's journey
(`REPLY_DELAY_DAYS`), or earlier, is called out (`listing_doubt`), even the
first time it is shown and with `--no-state`. A reply of format 3 also names the
keyring its reviewers held: another of a version this device was shown (a fork
its server showed it), or a later one than the server shows (a successor
withheld), is called out (`keyring_doubt`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

from crypto import Manifest, PrivateKey, VerifyKey, open_bytes, read_header, verify_signature
from crypto.envelope.metadata import KeyringSeen
from crypto.manifest import format_digest
from crypto.reply import doubtful_delay, read_reply
from submit.errors import SubmitError
from submit.state import State


class AlreadyRead(SubmitError):
    """A reviewer's reply sealed to a prekey this device deleted when it read it here.

    `relisted` when the server had stopped listing it (left it out of a listing, or it
    was deleted from the server here) and lists it again.
    """

    def __init__(self, message: str, *, relisted: bool = False) -> None:
        super().__init__(message)
        self.relisted = relisted


class NotHeld(SubmitError):
    """A reviewer's reply sealed to a prekey this device does not hold and did not delete.

    `certain` when the state knows every prekey it deleted (`State.deleted_all`) and the
    prekey is not one of an unfinished submission's: only then may the device sign that
    it never held it (`UnheldPrekey`).
    """

    def __init__(self, message: str, *, certain: bool = False) -> None:
        super().__init__(message)
        self.certain = certain


@dataclass(frozen=True)
class Reply:
    """An opened reply: its text, the reviewer key that signed it, and how it was sealed."""

    text: str
    signer: VerifyKey | None
    # True when it was sealed to a one-time prekey, now deleted.
    forward_secret: bool
    # The day its reviewer wrote it, sealed and signed; None for a reply of format 1.
    written: dt.date | None = None
    # The keyring its reviewers held in force, sealed and signed; None before format 3.
    keyring: KeyringSeen | None = None


def open_reply(
    state: State, codename_key: PrivateKey, envelope: bytes, trusted: Collection[VerifyKey]
) -> Reply:
    """Open and verify one reply; for a prekey's, delete the prekey and save before returning.

    Raises `CryptoError` if it does not open, verify or read; then nothing is deleted.
    For a reviewer's reply to a prekey not held, raises `AlreadyRead` if the state
    remembers deleting that prekey here (`relisted` if the server had stopped listing
    it), else `NotHeld` (one that is not signed by a reviewer of `trusted` raises
    `CryptoError`, as any forgery).
    """
    header = read_header(io.BytesIO(envelope))
    if header.version.number == 1:
        plaintext, opened = open_bytes(envelope, [codename_key], trusted_signers=trusted)
        body = read_reply(plaintext, opened.metadata)
        return Reply(body.text, opened.signer, False, body.written, body.keyring)
    wanted = {stanza.key_id for stanza in header.stanzas}
    held = [k for k in state.prekeys if k.public_key.fingerprint.key_id in wanted]
    if not held:
        # Said only of a reviewer's reply: on a server's envelope of its own, "read before
        # here" would be the server's word in the tool's mouth (someone read your reply).
        verify_signature(io.BytesIO(envelope), trusted)
        ids = {key_id.hex() for key_id in wanted}
        if ids & set(state.read):
            raise AlreadyRead("this reply was read here: its one-time key is deleted")
        if ids & set(state.deleted):
            # Read here, then left out of a listing (or deleted from the server) and listed
            # again: never "never held", which the device would sign for its reviewers.
            raise AlreadyRead("this reply was read here and is listed again", relisted=True)
        pending = state.pending.prekeys if state.pending is not None else []
        unfinished = any(k.public_key.fingerprint.key_id in wanted for k in pending)
        raise NotHeld(
            "this reply is sealed to a one-time key this device never held",
            certain=state.deleted_all and not unfinished,
        )
    plaintext, opened = open_bytes(envelope, held, trusted_signers=trusted)
    body = read_reply(plaintext, opened.metadata)
    for key in held:
        state.forget_prekey(key)
    return Reply(body.text, opened.signer, True, body.written, body.keyring)


def one_time_keys(envelope: bytes) -> list[str]:
    """The key ids (hex) a reply envelope of version 2 is sealed to; none for version 1."""
    header = read_header(io.BytesIO(envelope))
    if header.version.number == 1:
        return []
    return [stanza.key_id.hex() for stanza in header.stanzas]


def still_listed(state: State, envelopes: Iterable[bytes]) -> None:
    """Keep in mind only the replies the server still lists: the prekeys of those read
    here, and the day each reply to the codename's key was first listed.

    Called with every envelope of a whole listing (none left out, all fetched), less
    those deleted: a phone seized with its codename then says of the replies read
    here no more than the server holds.
    """
    envelopes = list(envelopes)
    listed = {key_id for envelope in envelopes for key_id in one_time_keys(envelope)}
    names = {digest(envelope) for envelope in envelopes}
    read = [key_id for key_id in state.read if key_id in listed]
    shown = {name: day for name, day in state.shown.items() if name in names}
    if read != state.read or shown != state.shown:
        state.read, state.shown = read, shown
        state.save()


def digest(envelope: bytes) -> str:
    """The name a reply envelope is remembered by: its bytes are fixed by its signature."""
    return hashlib.sha256(envelope).hexdigest()[:32]


def first_listed(state: State, envelope: bytes, day: str) -> str:
    """The day a reply was listed under when first shown here; `day` (saved) if it is new."""
    name = digest(envelope)
    earlier = state.shown.get(name)
    if earlier is not None:
        return earlier
    state.shown[name] = day
    state.save()
    return day


def listing_doubt(written: dt.date, listed: str) -> str | None:
    """What is wrong with the day a server lists a reply under, against its sealed day."""
    try:
        late = doubtful_delay(written, dt.date.fromisoformat(listed))
    except ValueError:
        return f"the server lists it under {listed}, which is no day"
    if late is None:
        return None
    if late < 0:
        return f"the server lists it under {listed}, before it was written, which cannot be"
    return (
        f"the server lists it under {listed}, {late} days after it was written (a reply "
        f"takes days, not weeks, to reach the server): it may be an old reply listed "
        f"again; read it as written on {written}"
    )


def keyring_doubt(named: KeyringSeen, shown: Sequence[Manifest]) -> str | None:
    """What a reply's keyring says of the chain the server showed this device, newest last.

    Its reviewers hold keyring `named`: another keyring of a version the device was
    shown is a fork the server showed it; a version after the one in force, a
    successor the server withholds (or has not installed yet).
    """
    by_version = {m.version: m for m in shown}
    same = by_version.get(named.version)
    if same is not None:
        if same.digest() == named.digest:
            return None
        return (
            f"its reviewers hold another keyring v{named.version} ({format_digest(named.digest)}) "
            f"than the one your server showed this device ({format_digest(same.digest())}): "
            "the server showed you a keyring of its own, and what you sent under it may have "
            "reached others than the reviewers"
        )
    newest = shown[-1].version
    if named.version > newest:
        return (
            f"its reviewers wrote it under keyring v{named.version}, and your server shows "
            f"v{newest}: it may be withholding the newer one (which may remove a reviewer), "
            "or has not installed it yet"
        )
    return None
