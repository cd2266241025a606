"""The submission API's rules: challenges, request proofs, source accounts, replies.

A request is authenticated by a source's Ed25519 signature over a challenge the
server issued (`crypto.request`), never by a bearer secret: a captured request
cannot be replayed, because each challenge is accepted once. Challenges are
tokens sealed under a key derived from the instance's secret key, so issuing one
writes nothing; spending one writes its random nonce and the day it expires.

Failed proofs are not counted and never stop anyone: a proof costs the server
one Ed25519 check, so there is no work worth throttling, and a shared failure
count would let anyone lock every client out. Challenges are always issued.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final, TypeVar

from flask import current_app, g
from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from werkzeug.datastructures import Headers

from app import circuits, kdf_pool
from app.db import insert_absent
from app.errors import FAULT_RETRY_AFTER, AppError
from app.models import Reply, Source, UsedChallenge, new_id, today
from app.services import replies
from app.services.context import services
from app.services.sources import ACCOUNT_DRAWS, new_designation
from crypto import CryptoError, PublicKey, SigningKey, TokenKey, VerifyKey, read_header
from crypto import constants as C
from crypto.binding import UnheldPrekey
from crypto.encoding import b64decode, b64encode, canonical_json, parse_json_object
from crypto.request import verify_request

CHALLENGE_SECONDS: Final = 300
MAX_JSON_BYTES: Final = 64 * 1024
HEADER_SOURCE: Final = "Raazdar-Source"
HEADER_CHALLENGE: Final = "Raazdar-Challenge"
HEADER_SIGNATURE: Final = "Raazdar-Signature"
HEADER_NEXT_CHALLENGE: Final = "Raazdar-Next-Challenge"
_NONCE_BYTES: Final = 16
# The most spent challenges of past days one request deletes in its write (`_spend`).
SPENT_SWEEP_BATCH: Final = 1000
_ID: Final = re.compile(r"[0-9a-f]{32}")
_READ_BLOCK: Final = 64 * 1024
T = TypeVar("T")
_REFUSED: Final = "the request proof was refused: get a new challenge and sign the request again"
# What a proof whose tag names no account is checked against (`authenticate`): its signing
# half is dropped here, so no proof verifies under it.
_STAND_IN: Final = SigningKey.generate().verify_key.to_text()


class ApiError(AppError):
    """A refusal of the API: an HTTP status, a short code, plain English, extra headers."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})


def bad_request(message: str) -> ApiError:
    """A request whose shape is wrong."""
    return ApiError(400, "bad-request", message)


def not_found(what: str = "no such resource") -> ApiError:
    """Something that does not exist, or not for this source (the two look alike)."""
    return ApiError(404, "not-found", what)


@dataclass(frozen=True)
class Proof:
    """The three headers that authenticate a request."""

    source: str
    challenge: str
    signature: str

    @classmethod
    def from_headers(cls, headers: Headers) -> Proof:
        """Read the proof headers; a missing one is a 401 like any bad proof."""
        values = [headers.get(name, "") for name in (HEADER_SOURCE, HEADER_CHALLENGE)]
        signature = headers.get(HEADER_SIGNATURE, "")
        if not all(values) or not signature:
            raise ApiError(401, "unauthorized", "this request needs a request proof")
        return cls(values[0], values[1], signature)


@dataclass(frozen=True)
class RequestFacts:
    """What a proof covers besides the challenge: method, path, body digest, offset."""

    method: str
    path: str
    digest: bytes
    offset: int | None = None


def _challenge_key() -> TokenKey:
    key: TokenKey | None = current_app.extensions.get("raazdar.api_challenge_key")
    if key is None:
        root = TokenKey(current_app.config["SECRET_KEY"][: C.KEY_BYTES])
        key = root.derive(C.PERSON_API_CHALLENGE_KEY)
        current_app.extensions["raazdar.api_challenge_key"] = key
    return key


def new_challenge() -> str:
    """Seal a fresh challenge: a random nonce and its expiry, readable by this server only."""
    body = {
        "exp": int(time.time()) + CHALLENGE_SECONDS,
        "nonce": b64encode(secrets.token_bytes(_NONCE_BYTES)),
    }
    key = _challenge_key()
    return key.seal(canonical_json(body), C.TOKEN_CONTEXT_API_CHALLENGE)


def issue_challenge(session: Session) -> dict[str, Any]:
    """Hand out a challenge (whatever proofs failed before: nobody can be locked out)."""
    del session
    return {"challenge": new_challenge(), "expires_in": CHALLENGE_SECONDS}


def _open_challenge(token: str) -> tuple[bytes, int]:
    """Return a challenge's nonce and expiry, or raise `CryptoError` if it is not ours or stale."""
    key = _challenge_key()
    body = parse_json_object(key.open(token, C.TOKEN_CONTEXT_API_CHALLENGE), max_bytes=256)
    nonce, exp = body.get("nonce"), body.get("exp")
    if set(body) != {"nonce", "exp"} or not isinstance(nonce, str) or type(exp) is not int:
        raise CryptoError("malformed challenge")
    if exp < time.time():
        raise CryptoError("expired challenge")
    return b64decode(nonce, length=_NONCE_BYTES), exp


def _refuse(session: Session) -> ApiError:
    """Refuse a failed proof the same way whatever was wrong with it (nothing is counted)."""
    session.rollback()
    return ApiError(401, "unauthorized", _REFUSED)


def _spend(session: Session, nonce: bytes) -> bool:
    """Record a challenge as used; False if it already was. Spent challenges of past days go,
    `SPENT_SWEEP_BATCH` at a time."""
    # Kept through tomorrow, whenever today it came: the day its token expires would
    # be tomorrow only for a request in today's last minutes, and say so.
    expires_day = today() + dt.timedelta(days=1 + CHALLENGE_SECONDS // 86400)
    # A share of them, not all: a day's flood left millions, and one request deleting
    # them all held the database's writer (SQLite's one) for as long as that takes.
    past = select(UsedChallenge.nonce).where(UsedChallenge.expires_day < today())
    session.execute(
        delete(UsedChallenge)
        .where(UsedChallenge.nonce.in_(past.limit(SPENT_SWEEP_BATCH).scalar_subquery()))
        .execution_options(synchronize_session=False)
    )
    # Inserted only if absent: a unique key refused is an error PostgreSQL logs, with the
    # nonce and the time, and a client on Tor sends a request again when its answer was lost.
    spent = session.execute(
        insert_absent(session, UsedChallenge)
        .values(nonce=nonce, expires_day=expires_day)
        .returning(UsedChallenge.nonce)
    ).first()
    if spent is None:
        session.rollback()
        return False
    session.commit()
    return True


def _verify(session: Session, proof: Proof, key: VerifyKey, facts: RequestFacts) -> None:
    """Check the challenge and the signature, then spend the challenge; else a counted 401."""
    try:
        nonce, _ = _open_challenge(proof.challenge)
        verify_request(
            key,
            proof.signature,
            proof.challenge,
            facts.method,
            facts.path,
            facts.digest,
            facts.offset,
        )
    except CryptoError as exc:
        raise _refuse(session) from exc
    _request_turn(session)
    _room_to_spend(session)
    if not _spend(session, nonce):
        raise _refuse(session)
    # From here on every answer, refusals included, carries the next challenge.
    g.api_authenticated = True


def precheck(session: Session, proof: Proof) -> None:
    """Refuse, before a body is read, a request whose challenge is not a live one of ours."""
    try:
        _open_challenge(proof.challenge)
        b64decode(proof.source, length=32)
    except CryptoError as exc:
        raise _refuse(session) from exc


def named_source(session: Session, proof: Proof) -> Source:
    """Return the account a proof's tag names, if it can sign; else the 401 of any failed proof."""
    try:
        tag = b64decode(proof.source, length=32)
    except CryptoError as exc:
        raise _refuse(session) from exc
    source = session.execute(select(Source).where(Source.lookup_tag == tag)).scalar_one_or_none()
    if source is None or source.signing_key is None:
        raise _refuse(session)
    return source


def authenticate(session: Session, proof: Proof, facts: RequestFacts) -> Source:
    """Return the source whose key signed this request over a fresh challenge, or a 401.

    A tag that names no account that can sign is refused after the same checks, its
    signature against a key nobody holds (`_STAND_IN`): refused at the look-up, it was
    answered some 0.3 ms sooner than one naming an account, and whoever held a tag (an old
    copy of the database) learnt from the timing of refusals whether it has one here.
    """
    try:
        tag = b64decode(proof.source, length=32)
    except CryptoError as exc:
        raise _refuse(session) from exc
    source = session.execute(select(Source).where(Source.lookup_tag == tag)).scalar_one_or_none()
    signer = source if source is not None and source.signing_key is not None else None
    try:
        key = VerifyKey.from_text((signer.signing_key if signer else None) or _STAND_IN)
    except CryptoError as exc:
        raise _refuse(session) from exc
    _verify(session, proof, key, facts)
    if signer is None:  # never: nobody holds the stand-in's signing key
        raise _refuse(session)
    return signer


def parse_json(data: bytes) -> dict[str, Any]:
    """Parse a JSON request body strictly (no floats, no duplicate keys), or a 400."""
    try:
        return parse_json_object(data, max_bytes=MAX_JSON_BYTES)
    except CryptoError as exc:
        raise bad_request(
            "the body must be one JSON object of at most 64 KiB, without floating-point"
            " numbers or repeated keys"
        ) from exc


def _exact_fields(body: dict[str, Any], expected: set[str]) -> None:
    missing = sorted(expected - set(body))
    if missing:
        raise bad_request(f"missing field(s): {', '.join(missing)}")
    if set(body) - expected:
        raise bad_request("unknown field(s) in the body")


def _field(body: dict[str, Any], name: str, read: Callable[[str], T], what: str) -> T:
    """Read one field, or a 400 naming the field (never quoting what was sent)."""
    value = body[name]
    try:
        if not isinstance(value, str):
            raise CryptoError("not a string")
        return read(value)
    except CryptoError as exc:
        raise bad_request(f"{name} must be {what}") from exc


@dataclass(frozen=True)
class NewSource:
    """What `POST /sources` asks for: a tag and two public keys, all derived on the device."""

    lookup_tag: bytes
    public_key: PublicKey
    signing_key: VerifyKey

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> NewSource:
        """Read and check the body, or a 400 saying what is wrong."""
        _exact_fields(body, {"lookup_tag", "public_key", "signing_key"})
        return cls(
            _field(body, "lookup_tag", lambda t: b64decode(t, length=32), "32 bytes in base64url"),
            _field(body, "public_key", PublicKey.from_text, "an rz-x25519-public key"),
            _field(body, "signing_key", VerifyKey.from_text, "an rz-ed25519-public key"),
        )


def create_source(session: Session, proof: Proof, facts: RequestFacts, data: bytes) -> bool:
    """Create an account from a client's derived values; True if new, False if it existed.

    The proof must verify under the signing key in the body, so only the holder
    of that key can bind it to an account.
    """
    try:
        # Cheap checks first: a request without a live challenge of ours is a 401
        # whatever its body says.
        _open_challenge(proof.challenge)
        tag = b64decode(proof.source, length=32)
    except CryptoError as exc:
        raise _refuse(session) from exc
    wanted = NewSource.from_json(parse_json(data))
    if tag != wanted.lookup_tag:
        raise _refuse(session)
    _verify(session, proof, wanted.signing_key, facts)
    paced = False
    for draw in range(ACCOUNT_DRAWS):
        found = session.execute(
            select(Source).where(Source.lookup_tag == wanted.lookup_tag)
        ).scalar_one_or_none()
        if found is not None and _holds_keys(found, wanted):
            found.active_day = today()
            session.commit()
            return False
        if not paced:
            # Before the answer says whether the tag has an account: taken only when a new
            # one would be made, it let anyone holding a tag (an old copy of the database),
            # once their circuit had made its account of the minute, ask with keys of their
            # own four times a second whether it has one here, a 409 or a 503 "busy".
            _account_turn(session)
            paced = True
        if found is not None:
            raise _other_keys(found)
        # Inserted only if nothing unique in it is taken, as in Tor Browser
        # (`sources.create_account`): a refused key is an error PostgreSQL logs, with the
        # designation and the time a source made an account.
        made = session.execute(
            insert_absent(session, Source)
            .values(
                id=new_id(),
                lookup_tag=wanted.lookup_tag,
                designation=new_designation(draw),
                public_key=wanted.public_key.to_text(),
                signing_key=wanted.signing_key.to_text(),
                filed=False,
            )
            .returning(Source.id)
        ).first()
        if made is not None:
            session.commit()
            return True
        # A designation already taken (drawn again), or the same account made at this
        # moment (the next draw's look-up finds it).
    raise ApiError(503, "busy", "could not create the account now; please try again")


def _request_turn(session: Session) -> None:
    """Refuse, before its challenge is spent (a write), a signed request of a circuit that
    sent its share a moment ago (`app.circuits.take_request_turn`): the challenge stays
    unspent, to send again."""
    _refuse_for(
        session,
        circuits.take_request_turn(kdf_pool.current_circuit()),
        "this Tor circuit sent many requests a moment ago: try again in a few seconds",
    )


def _room_to_spend(session: Session) -> None:
    """Refuse, before its challenge is spent, a signed request while the store's disk is down
    to the last share no upload takes (`EnvelopeStore.space_above_floor`).

    A spent challenge is a row kept two days, some 70 bytes: a circuit sending four a
    second writes 25 MB a day, and a few dozen grew the database beside the store (SQLite's
    default) into the room left there for logins. The challenge stays unspent, to send again.
    """
    if not services().store.space_above_floor(0):
        session.rollback()
        raise ApiError(
            503,
            "storage-full",
            "the server is short of disk space: nothing was spent; try again later",
            {"Retry-After": str(FAULT_RETRY_AFTER)},
        )


def _account_turn(session: Session) -> None:
    """Refuse a new account to a circuit that made one a moment ago (`app.circuits`)."""
    _refuse_for(
        session,
        circuits.take_account_turn(kdf_pool.current_circuit()),
        "this Tor circuit made an account a moment ago: try again in a minute",
    )


def _refuse_for(session: Session, wait: int, message: str) -> None:
    """A circuit that must wait `wait` seconds gets 503 busy, with nothing of its written."""
    if wait:
        session.rollback()
        raise ApiError(503, "busy", message, {"Retry-After": str(wait)})


def _holds_keys(found: Source, wanted: NewSource) -> bool:
    """Whether an existing account was made with exactly these keys (it answers to no other)."""
    return found.signing_key is not None and (
        found.public_key == wanted.public_key.to_text()
        and found.signing_key == wanted.signing_key.to_text()
    )


def _other_keys(found: Source) -> ApiError:
    """The 409 of a tag whose account has other keys, or none yet to sign with."""
    if found.signing_key is None:
        # Made in a browser before the API existed: its signing key was never
        # seen, and taking one on the word of whoever knows the lookup tag would
        # let a copy of the database speak for the source.
        return ApiError(
            409,
            "conflict",
            "this account has no signing key yet: log in once with the codename in Tor Browser",
        )
    return ApiError(409, "conflict", "an account with this lookup tag has other keys")


def replies_and_notice(session: Session, proof: Proof, facts: RequestFacts) -> dict[str, Any]:
    """The requesting source's replies (id, size, day, oldest first) and status notice or None."""
    source = authenticate(session, proof, facts)
    rows = session.execute(
        select(Reply).where(Reply.source_id == source.id).order_by(Reply.received_day, Reply.id)
    ).scalars()
    replies = [{"id": r.id, "size": r.size, "day": r.received_day.isoformat()} for r in rows]
    return {"replies": replies, "notice": source.notice}


def delete_reply(session: Session, proof: Proof, facts: RequestFacts, reply_id: str) -> None:
    """Delete one of the requesting source's replies, file and row, or say there is none.

    A reply left on a seized server says that a reviewer answered this account: a
    device deletes what it has read, as the account page does.
    """
    source = authenticate(session, proof, facts)
    if not (_ID.fullmatch(reply_id) and replies.delete_own_reply(session, source.id, reply_id)):
        raise not_found("no such reply")


def unheld_reply(
    session: Session, proof: Proof, facts: RequestFacts, reply_id: str, data: bytes
) -> None:
    """Keep the source's signed word that its device cannot open this reply, for the reviewers.

    The statement must be signed by the account's own key and name a one-time prekey
    the reply is sealed to; the next export carries it (`UnheldPrekey`). Saying it
    again changes nothing.
    """
    source = authenticate(session, proof, facts)
    reply = session.get(Reply, reply_id) if _ID.fullmatch(reply_id) else None
    if reply is None or reply.source_id != source.id or not services().store.exists(reply.id):
        raise not_found("no such reply")
    try:
        statement = UnheldPrekey.from_json(parse_json(data))
        statement.verify()
    except CryptoError as exc:
        raise bad_request(f"not a signed statement of an unheld prekey ({exc})") from exc
    if statement.signer.to_text() != source.signing_key:
        raise bad_request("the statement is not signed by this account's key")
    with services().store.open(reply.id) as stream:
        header = read_header(stream)
    if statement.key_id not in {stanza.key_id for stanza in header.stanzas}:
        raise bad_request("this reply is not sealed to that one-time prekey")
    reply.unheld = canonical_json(statement.to_json()).decode("ascii")
    session.commit()


def find_reply(
    session: Session, proof: Proof, facts: RequestFacts, reply_id: str
) -> tuple[Iterator[bytes], int]:
    """One of the requesting source's replies, as blocks to send and their total size.

    It is sealed to the source's key, so it is sent as it is stored. The file is
    opened only when the first block is wanted: an answer that is never sent
    (to a HEAD request, say) leaves no file open.
    """
    source = authenticate(session, proof, facts)
    reply = session.get(Reply, reply_id) if _ID.fullmatch(reply_id) else None
    if reply is None or reply.source_id != source.id:
        raise not_found("no such reply")
    store = services().store
    if not store.exists(reply.id):
        raise not_found("no such reply")

    def blocks(envelope_id: str) -> Iterator[bytes]:
        with store.open(envelope_id) as stream:
            while block := stream.read(_READ_BLOCK):
                yield block

    return blocks(reply.id), reply.size
