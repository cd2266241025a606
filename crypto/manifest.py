"""The keyring manifest: who reports are sealed to, signed k-of-n by the authority keys.

Verification follows TUF's root rotation: a successor must have a higher version,
chain to the manifest in force by hash, be unexpired, and carry the threshold of
signatures of the authority set *in force*; when it changes the authority set it
must also carry the new set's threshold, proving the new keys are held.

Format 2 adds three sections the authorities vouch for (docs/PROTOCOL.md §8.7):
the instance (its onion addresses and bundle-signing keys), the codename salt
and KDF, and the timestamp key whose short-lived statements prove the keyring
is still the newest. Format 1 manifests stay readable as old links of a chain;
a successor never goes back from format 2 to format 1.

Format 3 adds each reviewer's long-term X-Wing key (`hybrid_key`, §8.9), and
means that sealers seal envelope v2 to the reviewers' weekly subkeys, never to
long-term keys and never v1. A successor never goes back from 3 to 2.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Final

from crypto import constants as C
from crypto.codename import CodenameParams
from crypto.encoding import b64decode, b64encode, blake2b, canonical_json, parse_json_object
from crypto.errors import FormatError, UnsupportedVersionError, VerificationError
from crypto.fields import date, exact_object, integer, list_of, string
from crypto.hybrid import HybridPublicKey
from crypto.instance import InstanceListing, TimestampPolicy
from crypto.keys import Fingerprint, PublicKey, SigningKey, VerifyKey
from crypto.names import skeleton

_ID: Final = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
_MAX_AUTHORITIES: Final = 16
_MAX_NAME: Final = 100


@dataclass(frozen=True, slots=True)
class AuthorityKey:
    """An authority key holder: a display name and an Ed25519 key."""

    name: str
    key: VerifyKey


@dataclass(frozen=True, slots=True)
class Recipient:
    """A reviewer that new reports are sealed to."""

    id: str
    name: str
    encryption_key: PublicKey
    signing_key: VerifyKey
    hybrid_key: HybridPublicKey | None = None

    def to_dict(self) -> dict[str, str]:
        """The recipient's JSON object (with `hybrid_key` in format 3 only)."""
        entry = {
            "id": self.id,
            "name": self.name,
            "encryption_key": self.encryption_key.to_text(),
            "signing_key": self.signing_key.to_text(),
        }
        if self.hybrid_key is not None:
            entry["hybrid_key"] = self.hybrid_key.to_text()
        return entry

    @classmethod
    def from_dict(cls, value: Any, *, hybrid: bool) -> Recipient:
        """Parse one recipient object strictly; `hybrid` (format 3) requires `hybrid_key`."""
        fields = {"id", "name", "encryption_key", "signing_key"} | (
            {"hybrid_key"} if hybrid else set()
        )
        r = exact_object(value, fields, "recipient")
        return cls(
            id=string(r["id"], "recipient id"),
            name=string(r["name"], "recipient name"),
            encryption_key=PublicKey.from_text(string(r["encryption_key"], "key")),
            signing_key=VerifyKey.from_text(string(r["signing_key"], "key")),
            hybrid_key=(
                HybridPublicKey.from_text(string(r["hybrid_key"], "hybrid key")) if hybrid else None
            ),
        )


@dataclass(frozen=True, slots=True)
class Manifest:
    """The content of one keyring version (unsigned)."""

    version: int
    previous: bytes | None
    issued: dt.date
    expires: dt.date
    threshold: int
    authorities: tuple[AuthorityKey, ...]
    recipients: tuple[Recipient, ...]
    instance: InstanceListing | None = None
    codename: CodenameParams | None = None
    timestamp: TimestampPolicy | None = None

    def __post_init__(self) -> None:
        _check_manifest(self)

    @property
    def format(self) -> int:
        """1 for reviewers only; 2 when it also lists the instance; 3 with hybrid keys too."""
        if self.instance is None:
            return C.MANIFEST_FORMAT
        if self.recipients[0].hybrid_key is None:
            return C.MANIFEST_FORMAT_INSTANCE
        return C.MANIFEST_FORMAT_HYBRID

    @property
    def seals_to_subkeys(self) -> bool:
        """Say whether sealers must seal v2 to the reviewers' weekly subkeys (format 3)."""
        return self.format == C.MANIFEST_FORMAT_HYBRID

    @property
    def authority_fingerprints(self) -> frozenset[Fingerprint]:
        """The fingerprints of the authority keys."""
        return frozenset(a.key.fingerprint for a in self.authorities)

    def to_body(self) -> dict[str, Any]:
        """Return the JSON object that signatures cover."""
        body: dict[str, Any] = {
            "type": C.MANIFEST_TYPE,
            "format": self.format,
            "version": self.version,
            "previous": self.previous.hex() if self.previous is not None else None,
            "issued": self.issued.isoformat(),
            "expires": self.expires.isoformat(),
            "authority": {
                "threshold": self.threshold,
                "keys": [{"name": a.name, "key": a.key.to_text()} for a in self.authorities],
            },
            "recipients": [r.to_dict() for r in self.recipients],
        }
        if self.instance is not None and self.codename is not None and self.timestamp is not None:
            body["instance"] = self.instance.to_dict()
            body["codename"] = self.codename.to_dict()
            body["timestamp"] = self.timestamp.to_dict()
        return body

    def canonical_bytes(self) -> bytes:
        """The canonical JSON of the body: what is signed and hashed."""
        return canonical_json(self.to_body())

    def digest(self) -> bytes:
        """The hash a successor's `previous` must name."""
        return blake2b(self.canonical_bytes(), person=C.PERSON_MANIFEST_HASH)

    @classmethod
    def from_body(cls, body: Any) -> Manifest:
        """Parse a body strictly: exact fields, exact types."""
        form = body.get("format") if isinstance(body, dict) else None
        if isinstance(body, dict) and body.get("type") == C.MANIFEST_TYPE and not _known(form):
            raise UnsupportedVersionError(f"unsupported manifest format {form!r}")
        fields = {
            "type",
            "format",
            "version",
            "previous",
            "issued",
            "expires",
            "authority",
            "recipients",
        }
        listed = form in (C.MANIFEST_FORMAT_INSTANCE, C.MANIFEST_FORMAT_HYBRID)
        if listed:
            fields |= {"instance", "codename", "timestamp"}
        obj = exact_object(body, fields, "manifest")
        if obj["type"] != C.MANIFEST_TYPE:
            raise FormatError("not a Raazdar keyring manifest")
        if not _known(obj["format"]):
            raise UnsupportedVersionError(f"unsupported manifest format {obj['format']!r}")
        authority = exact_object(obj["authority"], {"threshold", "keys"}, "authority")
        previous = obj["previous"]
        if previous is not None and (
            not isinstance(previous, str) or not re.fullmatch(r"[0-9a-f]{64}", previous)
        ):
            raise FormatError("previous must be 64 lowercase hex digits or null")
        return cls(
            version=integer(obj["version"], "version"),
            previous=bytes.fromhex(previous) if previous is not None else None,
            issued=date(obj["issued"], "issued"),
            expires=date(obj["expires"], "expires"),
            threshold=integer(authority["threshold"], "threshold"),
            authorities=tuple(
                AuthorityKey(
                    name=string(a["name"], "authority name"),
                    key=VerifyKey.from_text(string(a["key"], "authority key")),
                )
                for a in (
                    exact_object(x, {"name", "key"}, "authority key")
                    for x in list_of(authority["keys"], "authority keys")
                )
            ),
            recipients=tuple(
                Recipient.from_dict(x, hybrid=form == C.MANIFEST_FORMAT_HYBRID)
                for x in list_of(obj["recipients"], "recipients")
            ),
            instance=InstanceListing.from_dict(obj["instance"]) if listed else None,
            codename=CodenameParams.from_dict(obj["codename"]) if listed else None,
            timestamp=TimestampPolicy.from_dict(obj["timestamp"]) if listed else None,
        )

    def successor(
        self,
        *,
        issued: dt.date,
        expires: dt.date,
        recipients: Sequence[Recipient] | None = None,
        authorities: Sequence[AuthorityKey] | None = None,
        threshold: int | None = None,
        instance: InstanceListing | None = None,
        codename: CodenameParams | None = None,
        timestamp: TimestampPolicy | None = None,
    ) -> Manifest:
        """Draft the next version, chained to this one; it still needs signatures.

        Sections not given are carried over; giving the instance's three turns a
        format-1 keyring into format 2, and recipients that all carry a hybrid
        key turn format 2 into format 3.
        """
        return replace(
            self,
            version=self.version + 1,
            previous=self.digest(),
            issued=issued,
            expires=expires,
            recipients=tuple(recipients) if recipients is not None else self.recipients,
            authorities=tuple(authorities) if authorities is not None else self.authorities,
            threshold=threshold if threshold is not None else self.threshold,
            instance=instance or self.instance,
            codename=codename or self.codename,
            timestamp=timestamp or self.timestamp,
        )

    def is_expired(self, today: dt.date) -> bool:
        """Say whether the manifest is past its expiry date (it is valid through that day)."""
        return today > self.expires


@dataclass(frozen=True, slots=True)
class SignedManifest:
    """A manifest and the authority signatures over its canonical bytes."""

    manifest: Manifest
    signatures: tuple[tuple[Fingerprint, bytes], ...] = field(default=())

    def sign(self, key: SigningKey) -> SignedManifest:
        """Return a copy with `key`'s signature added (replacing an earlier one by it)."""
        fp = key.verify_key.fingerprint
        signature = key.sign(C.SIG_CONTEXT_MANIFEST, self.manifest.canonical_bytes())
        kept = tuple(s for s in self.signatures if s[0] != fp)
        return SignedManifest(self.manifest, (*kept, (fp, signature)))

    def to_bytes(self) -> bytes:
        """Serialise as canonical JSON: `{"manifest": …, "signatures": […]}`."""
        return canonical_json(
            {
                "manifest": self.manifest.to_body(),
                "signatures": [
                    {"key": str(fp).replace(" ", ""), "signature": b64encode(sig)}
                    for fp, sig in self.signatures
                ],
            }
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> SignedManifest:
        """Parse a signed manifest; nothing in it is trusted until verified."""
        obj = exact_object(
            parse_json_object(data, max_bytes=C.MANIFEST_MAX_BYTES),
            {"manifest", "signatures"},
            "signed manifest",
        )
        signatures = []
        for item in list_of(obj["signatures"], "signatures"):
            sig = exact_object(item, {"key", "signature"}, "signature")
            signatures.append(
                (
                    Fingerprint.parse(string(sig["key"], "signature key")),
                    b64decode(string(sig["signature"], "signature"), length=C.SIGNATURE_BYTES),
                )
            )
        return cls(Manifest.from_body(obj["manifest"]), tuple(signatures))

    def valid_signers(self, authorities: Sequence[AuthorityKey]) -> frozenset[Fingerprint]:
        """Return which of `authorities` made a valid signature over this manifest."""
        by_fp = {a.key.fingerprint: a.key for a in authorities}
        message = self.manifest.canonical_bytes()
        valid: set[Fingerprint] = set()
        for fp, signature in self.signatures:
            key = by_fp.get(fp)
            if key is None:
                continue
            try:
                key.verify(C.SIG_CONTEXT_MANIFEST, message, signature)
            except VerificationError:
                continue
            valid.add(fp)
        return frozenset(valid)


def verify_initial(
    signed: SignedManifest,
    pinned: Collection[Fingerprint],
    today: dt.date | None,
    *,
    signers: int | None = None,
) -> Manifest:
    """Accept a first manifest whose authority set is exactly the pinned one.

    `today=None` skips the expiry check (for the inner links of a chain).
    `signers` is how many pinned keys must sign it at least, whatever threshold
    it states: the manifest's own threshold is its writer's word, so one holder
    alone could write the pinned set with a threshold of 1 (PROTOCOL §8.5).
    """
    manifest = signed.manifest
    if manifest.authority_fingerprints != frozenset(pinned):
        raise VerificationError("authority", "authority keys are not the pinned ones")
    need = max(manifest.threshold, signers or 0)
    _require_threshold(signed, manifest.authorities, need, "threshold")
    if today is not None:
        _check_dates(manifest, today)
    return manifest


def verify_successor(
    current: Manifest, candidate: SignedManifest, today: dt.date | None
) -> Manifest:
    """Accept `candidate` as the next keyring after `current`, or say which rule failed."""
    new = candidate.manifest
    if new.version <= current.version:
        raise VerificationError(
            "version", f"version {new.version} does not follow version {current.version}"
        )
    if new.previous != current.digest():
        raise VerificationError("chain", "manifest does not chain to the one in force")
    if new.format < current.format:
        dropped = (
            "the instance listing"
            if new.format < C.MANIFEST_FORMAT_INSTANCE
            else "the reviewers' hybrid keys (sealing to weekly subkeys)"
        )
        raise VerificationError("format", f"a successor may not drop {dropped} of the one in force")
    _require_threshold(candidate, current.authorities, current.threshold, "threshold")
    if (new.authority_fingerprints, new.threshold) != (
        current.authority_fingerprints,
        current.threshold,
    ):
        _require_threshold(candidate, new.authorities, new.threshold, "rotation")
    if today is not None:
        _check_dates(new, today)
    return new


def verify_chain(
    pinned: Collection[Fingerprint],
    chain: Sequence[SignedManifest],
    today: dt.date,
    *,
    signers: int | None = None,
) -> Manifest:
    """Walk from the manifest the pinned keys sign to the newest; return the newest.

    `signers`, as in `verify_initial`, for the manifest the walk starts from.
    """
    pinned_set = frozenset(pinned)
    start = next(
        (i for i, s in enumerate(chain) if s.manifest.authority_fingerprints == pinned_set),
        None,
    )
    if start is None:
        raise VerificationError("authority", "no manifest in the chain is signed by pinned keys")
    current = verify_initial(chain[start], pinned_set, None, signers=signers)
    for candidate in chain[start + 1 :]:
        current = verify_successor(current, candidate, None)
    _check_dates(current, today)
    return current


def digest_text(manifest: Manifest) -> str:
    """The manifest's digest as people copy it: base32, upper case, in groups of four."""
    return format_digest(manifest.digest())


def format_digest(digest: bytes) -> str:
    """A manifest digest as `digest_text` writes it."""
    text = base64.b32encode(digest).decode("ascii").rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def parse_digest(text: str) -> bytes:
    """Read a digest as `digest_text` writes it: any case, spaces or `-` between groups."""
    compact = re.sub(r"[\s-]", "", text).upper()
    if not re.fullmatch(r"[A-Z2-7]{52}", compact):
        raise FormatError("a keyring digest is 52 base32 characters")
    try:
        return base64.b32decode(compact + "====")
    except binascii.Error as exc:
        raise FormatError("a keyring digest is 52 base32 characters") from exc


def check_lifetime(manifest: Manifest) -> None:
    """Refuse a keyring valid for more than `MANIFEST_MAX_DAYS` after it is issued.

    Expiry is what bounds a freeze attack on a reader without state, and how long
    a timestamp key's holder can keep a superseded keyring alive (PROTOCOL §8.6,
    §8.8). Installers check it of each new keyring; readers of a chain do not,
    so a keyring installed before the rule stays readable until it expires.
    """
    if (manifest.expires - manifest.issued).days > C.MANIFEST_MAX_DAYS:
        raise VerificationError(
            "lifetime",
            f"a keyring is valid for at most {C.MANIFEST_MAX_DAYS} days after it is issued, "
            f"and this one for {(manifest.expires - manifest.issued).days}",
        )


def check_step(current: Manifest, new: Manifest) -> None:
    """Refuse a keyring being installed (or signed) whose version is not the next one.

    Readers take any higher version (PROTOCOL §8.5), so installers keep versions
    from running ahead: canonical JSON's integers end at 2^53, and a keyring signed
    there, one line of the difference its holders read, has no successor, so none
    could ever drop whoever drafted it.
    """
    if new.version != current.version + 1:
        raise VerificationError(
            "step",
            f"the keyring after version {current.version} is version {current.version + 1},"
            f" and this one is version {new.version}",
        )


def check_names(manifest: Manifest) -> None:
    """Refuse a keyring being installed (or signed) in which two names of one role read alike.

    Holders know each other, and everyone knows the reviewers, by name: a key
    added as "Holder Two" in Cyrillic letters beside the real one reads as a
    second key of hers, and a holder who signs it hands its drafter a second vote
    (PROTOCOL §8.5). Installers and signers check it; readers of a chain do not,
    so a keyring installed before the rule stays readable.
    """
    for role, names in (
        ("authorities", [a.name for a in manifest.authorities]),
        ("reviewers", [r.name for r in manifest.recipients]),
    ):
        seen: dict[str, str] = {}
        for name in names:
            like = skeleton(name)
            if like in seen:
                # !a spells out the letters that are not what they seem.
                raise VerificationError(
                    "names",
                    f"two {role} have names that read alike, {seen[like]!a} and "
                    f"{name!a}: nobody reading them could tell which is whose",
                )
            seen[like] = name


def _require_threshold(
    signed: SignedManifest, authorities: Sequence[AuthorityKey], threshold: int, rule: str
) -> None:
    count = len(signed.valid_signers(authorities))
    if count < threshold:
        raise VerificationError(
            rule, f"{count} valid signature(s) of {threshold} required from the authority set"
        )


def _check_dates(manifest: Manifest, today: dt.date) -> None:
    if manifest.is_expired(today):
        raise VerificationError("expired", f"manifest expired on {manifest.expires.isoformat()}")
    if manifest.issued > today + dt.timedelta(days=1):
        raise VerificationError("issued", "manifest is dated in the future")


def _known(form: Any) -> bool:
    return type(form) is int and form in C.MANIFEST_FORMATS


def _check_manifest(m: Manifest) -> None:
    if m.version < 1:
        raise FormatError("version must be at least 1")
    if (m.version == 1) != (m.previous is None):
        raise FormatError("version 1, and only version 1, has no previous manifest")
    if m.previous is not None and len(m.previous) != 32:
        raise FormatError("previous must be a 32-byte hash")
    if m.expires <= m.issued:
        raise FormatError("a manifest must expire after it is issued")
    if not (1 <= len(m.authorities) <= _MAX_AUTHORITIES):
        raise FormatError(f"a manifest has 1-{_MAX_AUTHORITIES} authority keys")
    if len({a.key for a in m.authorities}) != len(m.authorities):
        raise FormatError("an authority key is listed twice")
    if not (1 <= m.threshold <= len(m.authorities)):
        raise FormatError("threshold must be between 1 and the number of authority keys")
    if not (1 <= len(m.recipients) <= C.ENVELOPE_MAX_RECIPIENTS):
        raise FormatError(f"a manifest has 1-{C.ENVELOPE_MAX_RECIPIENTS} recipients")
    ids = [r.id for r in m.recipients]
    if len(set(ids)) != len(ids) or not all(_ID.fullmatch(i) for i in ids):
        raise FormatError("recipient ids must be unique and match [a-z0-9][a-z0-9._-]*")
    keys = [r.encryption_key for r in m.recipients]
    if len(set(keys)) != len(keys):
        raise FormatError("a recipient key is listed twice")
    # One signing key under two ids would let one person's replies pass as another's.
    signing = [r.signing_key for r in m.recipients]
    if len(set(signing)) != len(signing):
        raise FormatError("a reviewer signing key is listed twice")
    sections = (m.instance, m.codename, m.timestamp)
    if any(x is None for x in sections) and any(x is not None for x in sections):
        raise FormatError("a manifest lists the instance, codename and timestamp key, or none")
    _check_roles(m)
    _check_hybrid(m)
    for name in [a.name for a in m.authorities] + [r.name for r in m.recipients]:
        if not (1 <= len(name) <= _MAX_NAME) or not name.isprintable():
            raise FormatError(f"names must be 1-{_MAX_NAME} printable characters")


def _check_roles(m: Manifest) -> None:
    """One key, one role: no authority key is a reviewer's, and the server's are no other (§8.1).

    Each is held by someone else: a key in two roles hands its holder both, as
    the server's key listed as the timestamp key would let the server vouch for
    a keyring it withholds the successor of, and listed as a reviewer's would
    let it sign that reviewer's subkey lists and replies. A timestamp key that
    is also an authority's or a reviewer's is let be here, so that keyrings
    drafted so stay readable (it gives that holder the timestamp role only);
    the review tool drafts no more of them.
    """
    authorities = frozenset(a.key for a in m.authorities)
    reviewers = frozenset(r.signing_key for r in m.recipients)
    server = frozenset(m.instance.server_keys) if m.instance is not None else frozenset()
    stamper = frozenset({m.timestamp.key}) if m.timestamp is not None else frozenset()
    if authorities & reviewers or server & (authorities | reviewers | stamper):
        raise FormatError(
            "a key is listed in two roles (an authority's and a reviewer's, or the server's "
            "and another)"
        )


def _check_hybrid(m: Manifest) -> None:
    """Format 3: every recipient has a hybrid key, none twice, and the instance is listed."""
    hybrid = [r.hybrid_key for r in m.recipients if r.hybrid_key is not None]
    if not hybrid:
        return
    if len(hybrid) != len(m.recipients):
        # One reviewer sealed to with long-term keys would leave their copies
        # without forward secrecy: all of them or none.
        raise FormatError("every recipient has a hybrid key, or none does")
    if m.instance is None:
        raise FormatError("a manifest with hybrid keys also lists the instance (format 3)")
    if len(set(hybrid)) != len(hybrid):
        raise FormatError("a recipient hybrid key is listed twice")
