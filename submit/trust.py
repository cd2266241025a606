"""Which keys reports are sealed to: the instance's keyring, checked against this device's pins.

The server's word counts for nothing here (docs/PROTOCOL.md §8). The first time,
the chain must start from the authority fingerprints the source pinned (given on
the command line, or trusted on first use with a loud warning) and carry the
threshold of their signatures at every step. After that the device remembers the
newest manifest it verified: anything older is a rollback and is refused, and
anything newer must chain to it as a successor signed by the authority set in
force, so nobody short of that set can change the recipients.

The keyring in force must also (docs/submit.md, docs/PROTOCOL.md §8.7-8.8):
list the onion this device talks to, so a phishing onion serving a copied
keyring is refused; carry the codename salt and KDF, which the device takes from
it rather than from the server's word; and come with a timestamp, signed by the
keyring's timestamp key, that has not expired, so a server withholding a newer
keyring is noticed within days. Replies are trusted only from its reviewers.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hmac
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from crypto import (
    CodenameParams,
    CryptoError,
    Fingerprint,
    FormatError,
    HybridPublicKey,
    InstanceListing,
    KdfParams,
    Manifest,
    PublicKey,
    SignedManifest,
    SignedTimestamp,
    Timestamp,
    VerificationError,
    VerifyKey,
    verify_chain,
    verify_successor,
    verify_timestamp,
)
from crypto.constants import SUBKEYS_FORMAT_BOUND
from crypto.encoding import b64decode, canonical_json
from crypto.manifest import format_digest, parse_digest
from crypto.subkeys import (
    ListRank,
    SignedSubkeyList,
    SubkeyError,
    SubkeyList,
    requires_subkeys,
    sealing_keys,
    verified_lists,
)
from submit.errors import TrustError
from submit.state import State

DO_NOT_SEND: Final = (
    "send nothing to this instance; check its authority fingerprints with the organisation "
    "through another channel"
)
_RULES: Final = {
    "authority": "it is not signed by the authority keys this device pinned",
    "threshold": "it lacks the authority signatures it needs",
    "rotation": "its new authority keys did not sign it",
    "version": "its versions do not follow each other",
    "chain": "it does not chain to the keyring this device verified before",
    "expired": "it has expired",
    "issued": "it is dated in the future",
    "signature": "a signature in it does not verify",
    "format": "it drops the instance listing of the keyring before it",
}
WITHHELD: Final = (
    "the server may be withholding a newer keyring (one that revokes a reviewer, say), or its "
    "administrators missed the renewal: send nothing now, try again in a few days, and tell "
    "the organisation through another channel if it lasts"
)
NO_SUBKEYS: Final = (
    "its administrators must install the reviewers' new subkey lists; try again in a few "
    "days, and tell the organisation through another channel if it lasts (reports are never "
    "sealed to the reviewers' long-term keys instead)"
)
TEST_KDF_FLAG: Final = "--insecure-test-kdf"


@dataclass(frozen=True)
class KeyringPin:
    """A keyring the organisation (or this device, `pins`) vouches for: its version and digest.

    The keyring in force must be it or descend from it, by `previous` hashes and
    the signatures of each authority set in force along the way: a fork written
    by authorities since rotated out, or under a threshold since raised, branches
    off before it and is refused, even by a device that keeps no state.
    """

    version: int
    digest: bytes

    @classmethod
    def of(cls, manifest: Manifest) -> KeyringPin:
        """The pin of a verified manifest."""
        return cls(manifest.version, manifest.digest())

    def __str__(self) -> str:
        return f"{self.version} {format_digest(self.digest)}"

    @classmethod
    def parse(cls, text: str) -> KeyringPin:
        """Read `VERSION DIGEST` as `raazdar-review keys show` gives them (`v7` or `7`)."""
        version, _, digest = text.strip().partition(" ")
        version = version.removeprefix("v")
        if not re.fullmatch(r"[1-9][0-9]{0,8}", version):
            raise FormatError("a keyring pin starts with the keyring's version, a number")
        return cls(int(version), parse_digest(digest))


@dataclass(frozen=True)
class KeyringDocument:
    """What `GET /api/v1/keyring` says, parsed but not yet trusted."""

    chain: tuple[SignedManifest, ...]
    advertised: frozenset[Fingerprint]
    in_force: int | None
    salt: bytes
    kdf: KdfParams
    timestamp: SignedTimestamp | None = None
    subkeys: Mapping[str, SignedSubkeyList] = field(default_factory=dict)

    @classmethod
    def parse(cls, doc: Any) -> KeyringDocument:
        """Read the document strictly; a malformed one is refused like a bad signature."""
        try:
            if not isinstance(doc, dict):
                raise TypeError("not an object")
            chain = tuple(
                SignedManifest.from_bytes(canonical_json(m)) for m in _list(doc["manifests"])
            )
            advertised = frozenset(
                Fingerprint.parse(_str(f)) for f in _list(doc["pinned_authorities"])
            )
            in_force = doc["in_force"]
            if in_force is not None and type(in_force) is not int:
                raise TypeError("in_force")
            codename = doc["codename"]
            if not isinstance(codename, dict):
                raise TypeError("codename")
            salt = b64decode(_str(codename["salt"]), length=16)
            kdf = KdfParams.from_dict(codename["kdf"])
            stamp = doc.get("timestamp")
            timestamp = SignedTimestamp.from_json(stamp) if stamp is not None else None
            served = doc.get("subkeys", {})
            if not isinstance(served, dict):
                raise TypeError("subkeys")
            subkeys = {
                _str(rid): SignedSubkeyList.from_bytes(canonical_json(body))
                for rid, body in served.items()
            }
        except (CryptoError, KeyError, TypeError, ValueError) as exc:
            raise TrustError(
                "the instance's keyring document is malformed", hint=DO_NOT_SEND
            ) from exc
        return cls(chain, advertised, in_force, salt, kdf, timestamp, subkeys)


def _list(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise TypeError("expected a list")
    return value


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("expected a string")
    return value


@dataclass(frozen=True)
class Verified:
    """The keyring to seal to, and every manifest of the chain that led to it."""

    signed: SignedManifest
    history: tuple[Manifest, ...]
    subkeys: Mapping[str, SignedSubkeyList] = field(default_factory=dict)
    # By reviewer id: the lowest subkey list number the keyring's timestamp lets a sealer take.
    floors: Mapping[str, int] = field(default_factory=dict)

    @property
    def manifest(self) -> Manifest:
        """The manifest in force: reports are sealed to its recipients."""
        return self.signed.manifest

    @property
    def instance(self) -> InstanceListing:
        """The instance the keyring in force lists (`verify` refused a keyring without)."""
        assert self.manifest.instance is not None  # noqa: S101 - checked by `verify`
        return self.manifest.instance

    @property
    def codename(self) -> CodenameParams:
        """The codename salt and KDF the authorities signed for this instance."""
        assert self.manifest.codename is not None  # noqa: S101 - checked by `verify`
        return self.manifest.codename

    @property
    def salt(self) -> bytes:
        """The codename salt, from the keyring in force."""
        return self.codename.salt

    @property
    def kdf(self) -> KdfParams:
        """The codename KDF settings, from the keyring in force."""
        return self.codename.kdf

    def reviewer_signing_keys(self) -> frozenset[VerifyKey]:
        """Keys a reply may be signed by: the reviewers of the keyring in force, only.

        A revoked reviewer is absent from it, so their replies stop verifying the
        day the keyring that drops them is in force.
        """
        return frozenset(r.signing_key for r in self.manifest.recipients)

    def recipients(self, today: dt.date) -> list[PublicKey | HybridPublicKey]:
        """The keys to seal to today: under a keyring of hybrid reviewers, this week's subkeys.

        Each reviewer's list, as the server served it, must verify under that
        reviewer's signing key in the keyring verified here and give a key for
        this week; otherwise nothing is sealed, and no long-term key is used
        instead (docs/PROTOCOL.md §5A.8).
        """
        if not requires_subkeys(self.manifest):
            return [r.encryption_key for r in self.manifest.recipients]
        try:
            return list(sealing_keys(self.manifest, self.subkeys, today))
        except SubkeyError as exc:
            raise TrustError(
                f"the instance's keyring requires each reviewer's subkey of this week, and "
                f"it serves none valid ({exc}): nothing was sealed",
                hint=NO_SUBKEYS,
            ) from exc


@dataclass(frozen=True)
class Unvouched:
    """A keyring in force that a fork by holders rotated out since could have written.

    With `base` None, the pins name authorities but no keyring, and the device has
    none of its own: the chain was checked from those keys alone. Otherwise `base`
    is the keyring the device vouches for (its state, or the pins' `keyring` line),
    and the one in force, later, names another timestamp key: the successors after
    `base` carry the signatures of its authority set, which holders rotated out
    since may still make, but only the workstation's timestamp key was beyond them
    (unless it is an authority's key too: then any later keyring is `Unvouched`).
    `pins_signed`: the keyring in force carries as many signatures of the pinned
    authority keys as the chain's first keyring needed (all of them, or the pins'
    threshold), as no holders short of that many could forge.
    """

    verified: Verified
    base: Manifest | None
    pins_signed: bool


def _unvouched(
    verified: Verified,
    last: SignedManifest | None,
    anchor: KeyringPin | None,
    pinned: Collection[Fingerprint],
    signers: int,
) -> Unvouched | None:
    """The keyring in force as `Unvouched`, or None when the state or the pins vouch for it."""
    newest = verified.manifest
    bases = [m for m in verified.history if anchor is not None and KeyringPin.of(m) == anchor]
    if last is not None:
        bases.append(last.manifest)
    keys = {a.key.fingerprint: a for m in verified.history for a in m.authorities}
    pins_signed = len(verified.signed.valid_signers([keys[f] for f in pinned if f in keys]))
    found = Unvouched(verified, None, pins_signed >= signers)
    if not bases:
        return found
    base = max(bases, key=lambda m: m.version)
    if newest.version == base.version:
        return None
    # A base of format 1 names no timestamp key to keep; one that is also an authority's
    # (old keyrings, PROTOCOL §8.1) is in a holder's hands: kept, it vouches for nothing.
    key = base.timestamp.key if base.timestamp is not None else None
    kept = key is not None and newest.timestamp is not None and newest.timestamp.key == key
    held = any(a.key == key for m in verified.history for a in m.authorities)
    if kept and not held:
        return None
    return dataclasses.replace(found, base=base)


def refused(exc: VerificationError) -> TrustError:
    """Say which rule the keyring broke, and that nothing should be sent."""
    why = _RULES.get(exc.rule, exc.rule)
    return TrustError(f"the instance's keyring was refused: {why} ({exc})", hint=DO_NOT_SEND)


def verify(
    doc: KeyringDocument,
    pinned: Collection[Fingerprint],
    last: SignedManifest | None,
    today: dt.date,
    *,
    signers: int | None = None,
    anchor: KeyringPin | None = None,
) -> Verified:
    """Verify the document's chain from the pins, or from the last manifest verified here.

    From the pins, the first manifest must carry `signers` pinned signatures at
    least, whatever threshold it states (`crypto.verify_chain`). With `anchor`,
    the keyring in force must also be that keyring or one verified from it.
    """
    chain = doc.chain
    if not chain or doc.in_force is None:
        raise TrustError("the instance has no keyring in force", hint="try again later")
    if doc.in_force != chain[-1].manifest.version:
        raise TrustError("the instance's keyring document is inconsistent", hint=DO_NOT_SEND)
    try:
        if last is None:
            verify_chain(pinned, chain, today, signers=signers)
            newest = chain[-1]
        else:
            newest = _from_last(chain, last, today)
        if anchor is not None:
            _check_anchor(chain, newest, anchor)
    except VerificationError as exc:
        raise refused(exc) from exc
    stamp = _check_fresh(doc, newest.manifest, today)
    return Verified(newest, _history(chain, newest.manifest), doc.subkeys, dict(stamp.subkeys))


def _check_fresh(doc: KeyringDocument, manifest: Manifest, today: dt.date) -> Timestamp:
    """Refuse a keyring that lists no instance, or whose timestamp is missing or stale."""
    if manifest.instance is None:
        raise TrustError(
            f"the instance's keyring (version {manifest.version}) does not list the instance, "
            "its codename settings or a timestamp key",
            hint="the authorities must sign a keyring of format 2 (docs/review-workstation.md); "
            + DO_NOT_SEND,
        )
    if doc.timestamp is None:
        raise TrustError(
            "the instance serves no timestamp for its keyring, so it may not be the newest",
            hint=WITHHELD,
        )
    try:
        return verify_timestamp(doc.timestamp, manifest, today)
    except VerificationError as exc:
        raise TrustError(
            f"the instance's keyring is not vouched for as the newest ({exc})", hint=WITHHELD
        ) from exc


def _from_last(
    chain: Sequence[SignedManifest], last: SignedManifest, today: dt.date
) -> SignedManifest:
    """Accept only the manifest verified before, or successors that chain to it."""
    current = last.manifest
    newest = chain[-1]
    if newest.manifest.version < current.version:
        raise TrustError(
            f"the instance's keyring was refused: it offers version {newest.manifest.version}, "
            f"but this device already verified version {current.version} (a rollback)",
            hint=DO_NOT_SEND,
        )
    later = [s for s in chain if s.manifest.version > current.version]
    if not later:
        if not hmac.compare_digest(newest.manifest.digest(), current.digest()):
            raise TrustError(
                f"the instance's keyring was refused: its version {current.version} is not the "
                "one this device verified before",
                hint=DO_NOT_SEND,
            )
        if current.is_expired(today):
            raise VerificationError("expired", f"manifest expired on {current.expires}")
        return last
    for candidate in later[:-1]:
        current = verify_successor(current, candidate, None)
    verify_successor(current, later[-1], today)
    return later[-1]


def _check_anchor(
    chain: Sequence[SignedManifest], newest: SignedManifest, anchor: KeyringPin
) -> None:
    """Accept only the pinned keyring, or a newest one that its successors lead to.

    Each step is checked as a successor, with the signatures of the authority set
    in force at that step, whatever set or threshold the device started from.
    """
    found = newest.manifest.version
    if found < anchor.version:
        raise TrustError(
            f"the instance's keyring was refused: it offers version {found}, older than "
            f"version {anchor.version}, which the pins name (a rollback)",
            hint=DO_NOT_SEND,
        )
    pinned = next(
        (
            s.manifest
            for s in chain
            if s.manifest.version == anchor.version
            and hmac.compare_digest(s.manifest.digest(), anchor.digest)
        ),
        None,
    )
    if pinned is None:
        raise TrustError(
            f"the instance's keyring was refused: its version {anchor.version} is not the one "
            "the pins name, so it is a fork of the keyring",
            hint=DO_NOT_SEND,
        )
    current = pinned
    for candidate in chain:
        if candidate.manifest.version > current.version:
            current = verify_successor(current, candidate, None)
    if not hmac.compare_digest(current.digest(), newest.manifest.digest()):
        raise TrustError(
            f"the instance's keyring was refused: its version {found} does not follow from "
            f"version {anchor.version}, which the pins name",
            hint=DO_NOT_SEND,
        )


def _other_authorities() -> TrustError:
    return TrustError(
        "these authority fingerprints are not the ones this device pinned for the instance",
        hint="pins naming other authorities are taken beside a `keyring VERSION DIGEST` line "
        "for the keyring that brought them in; to pin others, start afresh with another "
        "--state directory",
    )


def _history(chain: Sequence[SignedManifest], newest: Manifest) -> tuple[Manifest, ...]:
    """The verified manifest and its ancestors, each proved by the `previous` hash after it."""
    found = [newest]
    for signed in reversed(chain):
        m = signed.manifest
        if found[-1].previous is not None and hmac.compare_digest(m.digest(), found[-1].previous):
            found.append(m)
    return tuple(reversed(found))


def check_onion(verified: Verified, host: str | None) -> None:
    """Refuse an onion the keyring in force does not list; `None` is a loopback test server.

    `--direct` reaches only loopback addresses (`transport.Endpoint`), which no
    keyring lists, so a test server on this machine is not checked; nothing
    reachable through tor escapes the check.
    """
    if host is not None and not verified.instance.lists_onion(host):
        listed = ", ".join(verified.instance.onions)
        raise TrustError(
            f"{host} is not an address of this instance: its keyring lists {listed}",
            hint="this onion may be a copy set up to catch sources: "
            "send nothing, and get the address from the organisation another way",
        )


def check_kdf(verified: Verified, allow_test_kdf: bool) -> None:
    """Refuse test-strength codename settings unless the user asked for them by name."""
    if verified.kdf.is_testing and not allow_test_kdf:
        raise TrustError(
            "this instance's keyring sets test-strength codename key derivation: "
            "a codename used there could be guessed quickly",
            hint=f"only for a test instance, pass {TEST_KDF_FLAG}",
        )


def _check_not_rolled_back(
    state: State, verified: Verified, today: dt.date, *, bound: bool = False
) -> None:
    """Refuse a reviewer's subkey list older than one this device saw; remember the newest.

    A server may serve an older list its reviewer replaced (weeks re-issued after a
    compromise, or destroyed on the workstation): sealing to it loses the report or
    gives it away. Only lists that verify under the keyring in force are recorded.
    With `bound` (the pins say so), a list that names no instance is refused too.
    """
    seen = dict(state.subkeys)
    found = verified_lists(verified.manifest, verified.subkeys, today)
    _check_floors(verified, found)
    for key, listed in found.items():
        text = key.to_text()
        issued, form = listed.issued.isoformat(), listed.format
        if bound and form < SUBKEYS_FORMAT_BOUND:
            raise TrustError(
                f"the instance serves a subkey list for reviewer {key.fingerprint} that names "
                f"no instance (format {form}), and the pins say this instance's lists name it: "
                "an old list replayed, or another instance's: nothing was sealed",
                hint=DO_NOT_SEND,
            )
        before = seen.get(text)
        newer = listed.rank.older_than(before) if before is not None else None
        if newer is not None:
            raise TrustError(
                f"the instance serves an older subkey list for reviewer {key.fingerprint} "
                f"(issued {issued}, format {form}{_numbered(listed.rank)}) than this device "
                f"sealed to before (one {newer}): nothing was sealed",
                hint=WITHHELD,
            )
        seen[text] = listed.rank
    state.subkeys = seen


def _check_floors(verified: Verified, found: Mapping[VerifyKey, SubkeyList]) -> None:
    """Refuse a reviewer's list numbered below what the timestamp (or the pins) name for them.

    The timestamp holder names the list in force after a re-key, so a device with
    no state refuses the replaced list once the timestamps from before expire;
    pins carried from a device that sealed to it do so at once.
    """
    for recipient in verified.manifest.recipients:
        floor = verified.floors.get(recipient.id)
        listed = found.get(recipient.signing_key)
        if floor is None or listed is None:
            continue
        if listed.sequence is None or listed.sequence < floor:
            number = "unnumbered" if listed.sequence is None else f"numbered {listed.sequence}"
            raise TrustError(
                f"the instance serves reviewer {recipient.id} a subkey list {number}, but "
                f"list {floor} or later is in force, as the keyring's timestamp or the pins "
                "say (the older one may have been replaced after a leak): nothing was sealed",
                hint=WITHHELD,
            )


def _numbered(rank: ListRank) -> str:
    return "" if rank.sequence is None else f", numbered {rank.sequence}"


def numbers_seen(state: State) -> list[tuple[str, int]]:
    """Each reviewer of the newest keyring verified here with the number of the newest list
    sealed to here, by reviewer id (reviewers with no numbered list left out)."""
    if state.manifest is None:
        return []
    found = []
    for recipient in state.manifest.manifest.recipients:
        rank = state.subkeys.get(recipient.signing_key.to_text())
        if rank is not None and rank.sequence is not None:
            found.append((recipient.id, rank.sequence))
    return found


def bound_everywhere(manifest: Manifest, seen: Mapping[str, ListRank]) -> bool:
    """Whether every reviewer of a keyring of hybrid reviewers had a bound list sealed to here."""
    return requires_subkeys(manifest) and all(
        (rank := seen.get(r.signing_key.to_text())) is not None
        and rank.format >= SUBKEYS_FORMAT_BOUND
        for r in manifest.recipients
    )


def establish(
    state: State,
    doc: KeyringDocument,
    authorities: frozenset[Fingerprint],
    today: dt.date,
    warn: Callable[[frozenset[Fingerprint]], None],
    *,
    host: str | None,
    allow_test_kdf: bool = False,
    threshold: int | None = None,
    anchor: KeyringPin | None = None,
    bound_subkeys: bool = False,
    floors: Mapping[str, int] | None = None,
    unvouched: Callable[[Unvouched], None] | None = None,
) -> Verified:
    """Pin (on first use), verify, remember the newest manifest and the codename KDF; save.

    `host` is the onion the device talks to (None for a loopback test server).
    `threshold` is how many of `authorities` must sign the manifest the chain
    starts from; without it, every one of them must (as at `keys authority-init`).
    `anchor` is a keyring the pins name, which the keyring in force must be or
    follow from; `bound_subkeys`, that the pins refuse subkey lists naming no instance;
    `floors`, the lowest subkey list number the pins take of each reviewer (by id).
    `unvouched` is told of a keyring in force that nothing this device holds vouches for
    beyond authority signatures (`Unvouched`) before anything is pinned or saved, and
    may refuse it (PROTOCOL §8.6).
    """
    if threshold is not None and not 1 <= threshold <= len(authorities):
        raise TrustError(
            f"a threshold of {threshold} for {len(authorities)} authority key(s) cannot be met",
            hint="the pins give each authority fingerprint and at most that many as the threshold",
        )
    # The manifest's own threshold is its writer's word: pinned from the organisation,
    # the chain's start needs the organisation's number of their signatures.
    signers = (threshold or len(authorities)) if authorities else None
    pinned = state.authorities
    # Pins naming other authorities than this device pinned: taken only beside a keyring
    # line, for the keyring of those authorities that the state's chain leads to (the
    # organisation's current pins after a rotation), which is checked once verified.
    other = bool(pinned and authorities and authorities != pinned)
    if other and (anchor is None or state.manifest is None):
        raise _other_authorities()
    if not pinned:
        if authorities:
            pinned = authorities
        else:
            pinned = doc.advertised
            if not pinned and doc.chain:
                pinned = doc.chain[0].manifest.authority_fingerprints
            if not pinned:
                raise TrustError("the instance publishes no authority keys", hint=DO_NOT_SEND)
            warn(pinned)
    verified = verify(doc, pinned, state.manifest, today, signers=signers, anchor=anchor)
    if other and not any(
        KeyringPin.of(m) == anchor and m.authority_fingerprints == authorities
        for m in verified.history
    ):
        raise _other_authorities()
    if floors:
        merged = dict(verified.floors)
        for rid, number in floors.items():
            merged[rid] = max(number, merged.get(rid, 0))
        verified = dataclasses.replace(verified, floors=merged)
    check_onion(verified, host)
    check_kdf(verified, allow_test_kdf)
    if state.codename_salt is not None and (
        state.codename_salt != verified.salt or state.codename_kdf != verified.kdf
    ):
        raise TrustError(
            "the instance changed its codename salt or key derivation since this device "
            "last used it",
            hint="your codename would no longer open your replies there; " + DO_NOT_SEND,
        )
    _check_not_rolled_back(state, verified, today, bound=bound_subkeys)
    if unvouched is not None:
        vouching = authorities if other else pinned
        found = _unvouched(verified, state.manifest, anchor, vouching, signers or len(vouching))
        if found is not None and (found.base is not None or authorities):
            unvouched(found)
    state.authorities = pinned
    state.manifest = verified.signed
    state.codename_salt, state.codename_kdf = verified.salt, verified.kdf
    state.save()
    return verified
