"""Forward-secret period subkeys: a reviewer's signed list of one hybrid key per ISO week.

Reports are sealed (envelope v2) to the subkey of the week they are sealed in,
never to the reviewer's long-term key. Once everything sealed in a week has
been imported, the workstation destroys that week's secret, and from then on
no key anyone holds opens a copy of those envelopes (docs/PROTOCOL.md §5A.8).

The list is signed like a keyring timestamp: canonical JSON under a context of
its own, by the reviewer's long-term Ed25519 key, which the list also names.
Choosing a subkey fails closed: there is no fallback to any other key.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, BinaryIO, Final

from crypto import constants as C
from crypto.encoding import b64decode, b64encode, blake2b, canonical_json, parse_json_object
from crypto.envelope import Header, Opened, open_envelope, read_header
from crypto.envelope.header import unwrap_file_key
from crypto.envelope.version import V2
from crypto.errors import (
    DecryptionError,
    FormatError,
    UnsupportedVersionError,
    VerificationError,
)
from crypto.fields import date, exact_object, integer, is_int, list_of, string
from crypto.hybrid import HybridPrivateKey, HybridPublicKey
from crypto.keys import SigningKey, VerifyKey
from crypto.manifest import Manifest, Recipient

_PERIOD: Final = re.compile(r"([0-9]{4})-W([0-9]{2})")
_INSTANCE_ID: Final = re.compile(r"[0-9a-f]{32}")
_GRACE: Final = dt.timedelta(days=C.SUBKEYS_GRACE_DAYS)


class SubkeyError(VerificationError):
    """A subkey rule did not hold; `rule` says which. No other key is ever offered instead."""


@dataclass(frozen=True, order=True, slots=True)
class Period:
    """An ISO 8601 week, Monday to Sunday in UTC dates, written `2026-W49`."""

    year: int
    week: int

    def __post_init__(self) -> None:
        if type(self.year) is not int or type(self.week) is not int:
            raise FormatError("a period is an ISO year and week number")
        try:
            dt.date.fromisocalendar(self.year, self.week, 7)
        except ValueError as exc:
            raise FormatError(f"there is no ISO week {self.year:04d}-W{self.week:02d}") from exc

    @classmethod
    def of(cls, day: dt.date) -> Period:
        """The week `day` falls in (ISO weeks may start in December or end in January)."""
        iso = day.isocalendar()
        return cls(iso.year, iso.week)

    @classmethod
    def parse(cls, text: Any) -> Period:
        """Read `YYYY-Www` exactly: ASCII digits, a week the year has."""
        found = _PERIOD.fullmatch(text) if isinstance(text, str) else None
        if found is None:
            raise FormatError("a period is written YYYY-Www, as 2026-W49")
        return cls(int(found[1]), int(found[2]))

    @property
    def first_day(self) -> dt.date:
        """The Monday the week begins."""
        return dt.date.fromisocalendar(self.year, self.week, 1)

    @property
    def last_day(self) -> dt.date:
        """The Sunday the week ends."""
        return dt.date.fromisocalendar(self.year, self.week, 7)

    def after(self, weeks: int = 1) -> Period:
        """The week `weeks` later (earlier when negative)."""
        try:
            return Period.of(self.first_day + dt.timedelta(weeks=weeks))
        except OverflowError as exc:
            raise FormatError("period out of range") from exc

    def __str__(self) -> str:
        return f"{self.year:04d}-W{self.week:02d}"


@dataclass(frozen=True, slots=True)
class ListRank:
    """Where a subkey list stands among its reviewer's: its issue day, format and number."""

    issued: dt.date
    format: int
    sequence: int | None = None
    digest: bytes | None = None  # of a numbered list's body

    def older_than(self, other: ListRank) -> str | None:
        """Why this rank is older than `other`'s (None if it is not).

        `other` is newer if it is ahead by any of: issue day, format, or (both
        numbered) sequence. One number on two different lists is an
        equivocation (a list re-issued from a restored workspace, or a forgery
        of the signer's): neither is taken after the other.
        """
        if other.issued > self.issued:
            return f"issued {other.issued}, after {self.issued}"
        if other.format > self.format:
            return f"of format {other.format}, after format {self.format}"
        if self.sequence is None or other.sequence is None:
            return None
        if other.sequence > self.sequence:
            return f"numbered {other.sequence}, after {self.sequence}"
        if other.sequence == self.sequence and other.digest != self.digest:
            return f"another list numbered {other.sequence}"
        return None


@dataclass(frozen=True, slots=True)
class SubkeyList:
    """A reviewer's public subkeys for consecutive weeks (unsigned).

    Format 2 names the instance (its keyring's instance id) and the keyring
    version it was issued under, so one reviewer serving two instances signs
    lists neither can serve as the other's; format 1 (neither) is still read.
    Format 3 adds `sequence`, one more than the reviewer's list before it, so
    of two lists issued one day (a re-key after a leak) the later outranks
    the earlier (`older_than`).
    """

    reviewer: VerifyKey
    issued: dt.date
    subkeys: tuple[tuple[Period, HybridPublicKey], ...]
    instance: str | None = None
    keyring: int | None = None
    sequence: int | None = None

    def __post_init__(self) -> None:
        if (self.instance is None) != (self.keyring is None):
            raise FormatError("a subkey list names its instance and keyring version, or neither")
        if self.sequence is not None and (
            self.instance is None
            or type(self.sequence) is not int
            or not 1 <= self.sequence <= C.SUBKEYS_MAX_SEQUENCE
        ):
            raise FormatError(
                f"a list's sequence is an integer from 1 to {C.SUBKEYS_MAX_SEQUENCE}, "
                "in a list naming its instance"
            )
        if self.instance is not None and not (
            isinstance(self.instance, str) and _INSTANCE_ID.fullmatch(self.instance)
        ):
            raise FormatError("an instance id is 32 lowercase hex digits")
        if self.keyring is not None and not (type(self.keyring) is int and self.keyring >= 1):
            raise FormatError("a keyring version is an integer of at least 1")
        periods = [p for p, _ in self.subkeys]
        if not 1 <= len(periods) <= C.SUBKEYS_MAX_PERIODS:
            raise FormatError(f"a subkey list covers 1-{C.SUBKEYS_MAX_PERIODS} periods")
        if any(b != a.after() for a, b in itertools.pairwise(periods)):
            raise FormatError("a subkey list covers consecutive weeks, in order")
        keys = [k for _, k in self.subkeys]
        if len(set(keys)) != len(keys):
            # One key in two weeks would outlive the destruction of either week's copy.
            raise FormatError("a subkey is listed for two periods")
        if self.issued > self.last.last_day:
            raise FormatError("a subkey list is issued no later than its last period")

    @property
    def first(self) -> Period:
        """The first week the list covers."""
        return self.subkeys[0][0]

    @property
    def last(self) -> Period:
        """The last week the list covers."""
        return self.subkeys[-1][0]

    @property
    def format(self) -> int:
        """3 when numbered, 2 when bound to an instance and keyring version, 1 for neither."""
        if self.sequence is not None:
            return C.SUBKEYS_FORMAT_SEQUENCED
        return C.SUBKEYS_FORMAT if self.instance is None else C.SUBKEYS_FORMAT_BOUND

    @property
    def context(self) -> bytes:
        """The signature context of the list's format."""
        return {
            C.SUBKEYS_FORMAT: C.SIG_CONTEXT_SUBKEYS,
            C.SUBKEYS_FORMAT_BOUND: C.SIG_CONTEXT_SUBKEYS_V2,
            C.SUBKEYS_FORMAT_SEQUENCED: C.SIG_CONTEXT_SUBKEYS_V3,
        }[self.format]

    def digest(self) -> bytes:
        """A hash of the signed body: two lists of one sequence number must have the same."""
        return blake2b(self.canonical_bytes(), person=C.PERSON_SUBKEYS_HASH)

    @property
    def rank(self) -> ListRank:
        """Where the list stands among its reviewer's (what a device keeps of it)."""
        if self.sequence is None:
            return ListRank(self.issued, self.format)
        return ListRank(self.issued, self.format, self.sequence, self.digest())

    def older_than(self, other: SubkeyList) -> str | None:
        """Why this list is older than `other`, the same reviewer's (None if it is not)."""
        return self.rank.older_than(other.rank)

    def key_for(self, period: Period) -> HybridPublicKey | None:
        """The subkey listed for `period`, if any."""
        return next((k for p, k in self.subkeys if p == period), None)

    def to_body(self) -> dict[str, Any]:
        """The JSON object the signature covers."""
        body: dict[str, Any] = {
            "type": C.SUBKEYS_TYPE,
            "format": self.format,
            "reviewer": self.reviewer.to_text(),
            "issued": self.issued.isoformat(),
            "subkeys": [{"period": str(p), "key": k.to_text()} for p, k in self.subkeys],
        }
        if self.instance is not None:
            body["instance"] = self.instance
            body["keyring"] = self.keyring
        if self.sequence is not None:
            body["sequence"] = self.sequence
        return body

    def canonical_bytes(self) -> bytes:
        """The canonical JSON of the body: what is signed."""
        return canonical_json(self.to_body())

    @classmethod
    def from_body(cls, body: Any) -> SubkeyList:
        """Parse a body strictly: exact fields, exact types."""
        fields = {"type", "format", "reviewer", "issued", "subkeys"}
        form = body.get("format") if isinstance(body, dict) else None
        sequenced = is_int(form, C.SUBKEYS_FORMAT_SEQUENCED)
        bound = sequenced or is_int(form, C.SUBKEYS_FORMAT_BOUND)
        if bound:
            fields |= {"instance", "keyring"}
        if sequenced:
            fields |= {"sequence"}
        obj = exact_object(body, fields, "subkeys")
        if obj["type"] != C.SUBKEYS_TYPE:
            raise FormatError("not a Raazdar subkey list")
        if not bound and not is_int(obj["format"], C.SUBKEYS_FORMAT):
            raise UnsupportedVersionError(f"unsupported subkey list format {obj['format']!r}")
        entries = list_of(obj["subkeys"], "subkeys")
        if len(entries) > C.SUBKEYS_MAX_PERIODS:
            raise FormatError(f"a subkey list covers 1-{C.SUBKEYS_MAX_PERIODS} periods")
        return cls(
            reviewer=VerifyKey.from_text(string(obj["reviewer"], "reviewer")),
            issued=date(obj["issued"], "issued"),
            subkeys=tuple(
                (
                    Period.parse(e["period"]),
                    HybridPublicKey.from_text(string(e["key"], "subkey")),
                )
                for e in (exact_object(x, {"period", "key"}, "subkey") for x in entries)
            ),
            instance=string(obj["instance"], "instance") if bound else None,
            keyring=integer(obj["keyring"], "keyring") if bound else None,
            sequence=integer(obj["sequence"], "sequence") if sequenced else None,
        )


@dataclass(frozen=True, slots=True)
class SignedSubkeyList:
    """A subkey list and its reviewer's signature over its canonical JSON."""

    subkeys: SubkeyList
    signature: bytes

    def to_bytes(self) -> bytes:
        """Serialise as canonical JSON: `{"signature": …, "subkeys": …}`."""
        return canonical_json(
            {"subkeys": self.subkeys.to_body(), "signature": b64encode(self.signature)}
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> SignedSubkeyList:
        """Parse a signed list; nothing in it is trusted until verified."""
        obj = exact_object(
            parse_json_object(data, max_bytes=C.SUBKEYS_MAX_BYTES),
            {"subkeys", "signature"},
            "signed subkey list",
        )
        signature = b64decode(string(obj["signature"], "signature"), length=C.SIGNATURE_BYTES)
        return cls(SubkeyList.from_body(obj["subkeys"]), signature)


def sign_subkeys(subkeys: SubkeyList, key: SigningKey) -> SignedSubkeyList:
    """Sign `subkeys` with the reviewer's long-term key, the one the list names."""
    if key.verify_key != subkeys.reviewer:
        raise FormatError("a subkey list is signed by the reviewer it names")
    return SignedSubkeyList(subkeys, key.sign(subkeys.context, subkeys.canonical_bytes()))


def verify_subkeys(signed: SignedSubkeyList, reviewer: VerifyKey, today: dt.date) -> SubkeyList:
    """Accept `signed` as `reviewer`'s list, or raise `SubkeyError` naming the rule."""
    subkeys = signed.subkeys
    if subkeys.reviewer != reviewer:
        raise SubkeyError("signer", "the subkey list is not this reviewer's")
    try:
        reviewer.verify(subkeys.context, subkeys.canonical_bytes(), signed.signature)
    except VerificationError as exc:
        raise SubkeyError("signature", "the subkey list's signature does not verify") from exc
    if subkeys.issued > today + _GRACE:
        raise SubkeyError("issued", "the subkey list is dated in the future")
    return subkeys


def current(signed: SignedSubkeyList, reviewer: VerifyKey, today: dt.date) -> HybridPublicKey:
    """The subkey to seal to on `today` (a UTC date); `SubkeyError` if none, never another key.

    Verifies the list every time (one Ed25519 check): a caller may cache the
    answer for a day, never past a change of list or of keyring.
    """
    subkeys = verify_subkeys(signed, reviewer, today)
    period = Period.of(today)
    if period > subkeys.last:
        raise SubkeyError("expired", f"the subkey list ended with {subkeys.last}")
    key = subkeys.key_for(period)
    if key is None:
        raise SubkeyError("missing", f"the subkey list has no key for {period}")
    return key


def days_left(signed: SignedSubkeyList, reviewer: VerifyKey, today: dt.date) -> int:
    """How many days from today on `current` succeeds (`SubkeyError` if it fails today)."""
    current(signed, reviewer, today)
    return (signed.subkeys.last.last_day - today).days + 1


@dataclass(frozen=True, slots=True)
class SubkeySecrets:
    """The workstation's secret subkeys by week: what its caller keeps sealed at rest.

    A week re-keyed after a compromise (`rekeyed`) holds its replaced secrets
    before its newest, which alone is listed: what was sealed to them still opens.
    """

    keys: tuple[tuple[Period, HybridPrivateKey], ...] = ()

    def __post_init__(self) -> None:
        periods = [p for p, _ in self.keys]
        public = {k.public_key for _, k in self.keys}
        if (
            periods != sorted(periods)
            or len(public) != len(periods)
            or len(periods) > C.SUBKEY_SECRETS_MAX_PERIODS
        ):
            raise FormatError(
                f"secret subkeys are 0-{C.SUBKEY_SECRETS_MAX_PERIODS} entries in week order, "
                "no key twice"
            )

    @property
    def periods(self) -> tuple[Period, ...]:
        """The weeks whose secrets are still held, each once."""
        return tuple(dict.fromkeys(p for p, _ in self.keys))

    def get(self, period: Period) -> HybridPrivateKey | None:
        """The newest secret for `period` (the one listed), if it is still held."""
        return next((k for p, k in reversed(self.keys) if p == period), None)

    def all_of(self, period: Period) -> tuple[HybridPrivateKey, ...]:
        """Every secret held for `period`: the replaced ones, then the newest."""
        return tuple(k for p, k in self.keys if p == period)

    def rekeyed(self, periods: Iterable[Period]) -> SubkeySecrets:
        """The store with a fresh newest secret for each of `periods` (held weeks only)."""
        weeks = set(periods)
        if not weeks <= set(self.periods):
            raise FormatError("only a week held can be re-keyed")
        fresh = [(p, HybridPrivateKey.generate()) for p in sorted(weeks)]
        return SubkeySecrets(tuple(sorted([*self.keys, *fresh], key=lambda item: item[0])))

    def public_list(
        self,
        reviewer: VerifyKey,
        today: dt.date,
        instance: str | None = None,
        keyring: int | None = None,
        sequence: int | None = None,
    ) -> SubkeyList:
        """The list to sign today: every held week from this one on, issued today.

        Given an instance id and a keyring version the list is bound to them
        (format 2), and given a `sequence` too it is numbered (format 3);
        without, it is a format 1 list.
        """
        ahead = tuple(
            (p, newest.public_key)
            for p in self.periods
            if p >= Period.of(today) and (newest := self.get(p)) is not None
        )
        if not ahead:
            raise FormatError("no secret subkey is held for this week or later")
        return SubkeyList(reviewer, today, ahead, instance, keyring, sequence)

    def merged(self, other: SubkeySecrets) -> SubkeySecrets:
        """Both stores together; a week held with another newest secret is refused."""
        added = []
        for period in other.periods:
            mine, theirs = self.get(period), other.get(period)
            if mine is None:
                added += [(period, key) for key in other.all_of(period)]
            elif mine != theirs:
                raise FormatError(f"two different secret subkeys for {period}")
        return SubkeySecrets(tuple(sorted([*self.keys, *added], key=lambda item: item[0])))

    def to_bytes(self) -> bytes:
        """Canonical JSON of the seeds. Secret: the caller seals it before it touches a disk."""
        return canonical_json(
            {
                "type": C.SUBKEY_SECRETS_TYPE,
                "format": C.SUBKEYS_FORMAT,
                "secrets": [{"period": str(p), "key": k.to_text()} for p, k in self.keys],
            }
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> SubkeySecrets:
        """Parse what `to_bytes` wrote, strictly."""
        obj = exact_object(
            parse_json_object(data, max_bytes=C.SUBKEY_SECRETS_MAX_BYTES),
            {"type", "format", "secrets"},
            "secret subkeys",
        )
        if obj["type"] != C.SUBKEY_SECRETS_TYPE:
            raise FormatError("not a Raazdar secret subkey store")
        if not is_int(obj["format"], C.SUBKEYS_FORMAT):
            raise UnsupportedVersionError(f"unsupported secret subkey format {obj['format']!r}")
        entries = (
            exact_object(x, {"period", "key"}, "secret subkey")
            for x in list_of(obj["secrets"], "secrets")
        )
        return cls(
            tuple(
                (Period.parse(e["period"]), HybridPrivateKey.from_text(string(e["key"], "key")))
                for e in entries
            )
        )


def generate(first: Period, count: int = C.SUBKEYS_PERIODS_AHEAD) -> SubkeySecrets:
    """Make fresh, independent secret subkeys for `count` consecutive weeks from `first`."""
    if not 1 <= count <= C.SUBKEYS_MAX_PERIODS:
        raise FormatError(f"a batch is 1-{C.SUBKEYS_MAX_PERIODS} periods")
    return SubkeySecrets(tuple((first.after(i), HybridPrivateKey.generate()) for i in range(count)))


def closed_through(day: dt.date) -> Period:
    """The newest week nothing may be sealed to on `day`: it ended over a day before."""
    edge = day - _GRACE - dt.timedelta(days=1)
    period = Period.of(edge)
    return period if period.last_day == edge else period.after(-1)


def destroyable(
    secrets: SubkeySecrets, imported_through: Period | None, today: dt.date
) -> tuple[Period, ...]:
    """The held weeks whose secrets may go: closed by today, everything sealed to them imported.

    `imported_through` is the newest week all of whose envelopes the caller has
    imported: `closed_through(day)` of the newest export bundle it imported, its
    chain complete (the server accepts nothing for a closed week).
    """
    limit = _destroy_limit(imported_through, today)
    return tuple(p for p in secrets.periods if limit is not None and p <= limit)


def destroy(
    secrets: SubkeySecrets,
    periods: Iterable[Period],
    *,
    imported_through: Period | None,
    today: dt.date,
) -> SubkeySecrets:
    """Return `secrets` without `periods`' keys; refuse any week still needed."""
    doomed = set(periods)
    limit = _destroy_limit(imported_through, today)
    needed = sorted(p for p in doomed if limit is None or p > limit)
    if needed:
        raise SubkeyError("needed", f"{needed[0]} may still open envelopes not yet imported")
    return SubkeySecrets(tuple(item for item in secrets.keys if item[0] not in doomed))


def _destroy_limit(imported_through: Period | None, today: dt.date) -> Period | None:
    if imported_through is None:
        return None
    return min(imported_through, closed_through(today))


def open_with_subkeys(
    src: BinaryIO,
    dst: BinaryIO,
    secrets: SubkeySecrets,
    *,
    trusted_signers: Iterable[VerifyKey] | None = None,
) -> tuple[Period, Opened]:
    """Open a v2 envelope sealed to one of the held weeks; say which week it was.

    The stanza's key id names the subkey, so only the weeks it names are tried;
    `src` must be seekable, since the header is read twice.
    """
    start = src.tell()
    header = read_header(src)
    src.seek(start)
    for period, key in secrets.keys:
        try:
            # Tries only stanzas whose key id is this key's, and only on a v2 header.
            unwrap_file_key(header, [key])
        except DecryptionError:
            continue
        signers = None if trusted_signers is None else list(trusted_signers)
        return period, open_envelope(src, dst, [key], trusted_signers=signers)
    raise DecryptionError("no stanza opens with a held subkey")


def requires_subkeys(manifest: Manifest) -> bool:
    """Say whether `manifest` is a keyring of hybrid reviewers (format 3): seal to subkeys only.

    Any one long-term hybrid key is enough: format 3 requires one for every
    reviewer, so a keyring with some and not others fails closed in `sealing_keys`.
    """
    return any(r.hybrid_key is not None for r in manifest.recipients)


def sealing_keys(
    manifest: Manifest, lists: Mapping[str, SignedSubkeyList], today: dt.date
) -> list[HybridPublicKey]:
    """The keys to seal to on `today`: each reviewer's current subkey, in keyring order.

    `lists` are the installed lists by recipient id. Any reviewer without a valid
    current subkey is a `SubkeyError`: nothing is sealed, and no long-term key
    is ever offered instead (docs/PROTOCOL.md §5A.8).
    """
    keys = [
        current(_trusted_list(manifest, r, lists), r.signing_key, today)
        for r in manifest.recipients
    ]
    if len(set(keys)) != len(keys):
        raise SubkeyError("duplicate", "two reviewers list the same subkey")
    return keys


def check_sealed_to_subkeys(
    header: Header, manifest: Manifest, lists: Mapping[str, SignedSubkeyList], today: dt.date
) -> None:
    """Rule D2: accept an upload only if sealed to an open week's subkey of each reviewer.

    The header must be v2, with exactly one stanza per reviewer, each naming a
    subkey from that reviewer's list for a week not closed on `today`
    (`closed_through`) and not after tomorrow's week (a client's clock may be a
    day ahead). So nothing for a closed week arrives after an export that let
    the workstation destroy it. Anything else is a `SubkeyError`.
    """
    if header.version is not V2:
        raise SubkeyError("version", "a keyring of hybrid reviewers takes only envelope v2")
    closed = closed_through(today)
    newest = Period.of(today + _GRACE)
    owners: dict[bytes, str] = {}
    for recipient in manifest.recipients:
        signed = _trusted_list(manifest, recipient, lists)
        subkeys = verify_subkeys(signed, recipient.signing_key, today)
        for period, key in subkeys.subkeys:
            if (
                closed < period <= newest
                and owners.setdefault(key.fingerprint.key_id, recipient.id) != recipient.id
            ):
                raise SubkeyError("duplicate", "two reviewers list the same subkey")
    named = [owners.get(s.key_id) for s in header.stanzas]
    expected = sorted(r.id for r in manifest.recipients)
    if None in named or sorted(n for n in named if n is not None) != expected:
        raise SubkeyError(
            "stanzas", "not sealed to exactly one open week's subkey of each reviewer"
        )


def check_sealed_to_keyring(
    header: Header, manifest: Manifest, lists: Mapping[str, SignedSubkeyList], today: dt.date
) -> None:
    """Accept `header` only if sealed as `manifest` would have it sealed on `today`.

    Under a keyring of hybrid reviewers, rule D2 (`check_sealed_to_subkeys`); else
    to exactly its reviewers' long-term keys. A sealer resuming a send checks what
    it sealed before: keys since revoked or replaced (a re-key after a leak) fail.
    """
    if requires_subkeys(manifest):
        check_sealed_to_subkeys(header, manifest, lists, today)
        return
    wanted = {r.encryption_key.fingerprint.key_id for r in manifest.recipients}
    named = [s.key_id for s in header.stanzas]
    if len(named) != len(wanted) or set(named) != wanted:
        raise SubkeyError("stanzas", "not sealed to exactly the keyring's reviewers")


def check_install(
    manifest: Manifest,
    signed: SignedSubkeyList,
    installed: SignedSubkeyList | None,
    today: dt.date,
    *,
    rekeyed: bool = False,
    superseded: frozenset[bytes] = frozenset(),
) -> Recipient:
    """Accept `signed` as a reviewer's list to install, replacing `installed`; say whose it is.

    The list must be signed by the long-term key of a reviewer of the keyring in
    force, list no long-term hybrid key, and, beside the list it replaces, be no
    older and give the same key for every week both cover (lists from one secret
    store overlap without disagreeing; a list that disagrees is someone else's),
    unless the installer says the reviewer `rekeyed` those weeks (a subkey was
    compromised). Either way it names no key in `superseded` (key ids replaced so
    before): the compromised list, replayed the same day, is refused.
    """
    recipient = next(
        (r for r in manifest.recipients if r.signing_key == signed.subkeys.reviewer), None
    )
    if recipient is None:
        raise SubkeyError("signer", "the list is not signed by a reviewer of the keyring in force")
    subkeys = verify_subkeys(signed, recipient.signing_key, today)
    _refuse_long_term(manifest, subkeys)
    check_bound(manifest, subkeys)
    for period, key in subkeys.subkeys:
        if key.fingerprint.key_id in superseded:
            raise SubkeyError("superseded", f"the key for {period} was replaced after a compromise")
    if installed is not None and installed != signed:
        old = installed.subkeys
        newer = subkeys.older_than(old)
        if newer is not None:
            raise SubkeyError("older", f"the installed list is newer: {newer}")
        changed = replaced(subkeys, old)
        if changed and not rekeyed:
            raise SubkeyError(
                "disagrees", f"the installed list has another key for {changed[0][0]}"
            )
    return recipient


def replaced(new: SubkeyList, old: SubkeyList) -> tuple[tuple[Period, HybridPublicKey], ...]:
    """The weeks both lists cover for which `new` gives another key, with `old`'s key."""
    found = []
    for period, key in new.subkeys:
        before = old.key_for(period)
        if before is not None and before != key:
            found.append((period, before))
    return tuple(found)


def verified_lists(
    manifest: Manifest, lists: Mapping[str, SignedSubkeyList], today: dt.date
) -> dict[VerifyKey, SubkeyList]:
    """The lists in `lists` that verify for a reviewer of `manifest`, by that reviewer's key.

    A list that does not verify is left out: `sealing_keys` says why when it is needed.
    """
    found = {}
    for recipient in manifest.recipients:
        try:
            signed = _trusted_list(manifest, recipient, lists)
            found[recipient.signing_key] = verify_subkeys(signed, recipient.signing_key, today)
        except SubkeyError:
            continue
    return found


def _trusted_list(
    manifest: Manifest, recipient: Recipient, lists: Mapping[str, SignedSubkeyList]
) -> SignedSubkeyList:
    """`recipient`'s installed list, if it is hybrid and the list names no long-term key."""
    if recipient.hybrid_key is None:
        raise SubkeyError("format", f"reviewer {recipient.id} has no long-term hybrid key")
    signed = lists.get(recipient.id)
    if signed is None:
        raise SubkeyError("missing", f"no subkey list is installed for reviewer {recipient.id}")
    _refuse_long_term(manifest, signed.subkeys)
    check_bound(manifest, signed.subkeys)
    return signed


def check_bound(manifest: Manifest, subkeys: SubkeyList) -> None:
    """A format 2 list must name this keyring's instance and no later keyring than `manifest`.

    A list for another instance (a reviewer serving two organisations) would seal
    this instance's reports to subkeys whose secrets the other workstation holds;
    a keyring later than the one in force means a newer keyring is withheld.
    """
    if subkeys.instance is None:
        return
    ours = manifest.instance.id if manifest.instance is not None else None
    if subkeys.instance != ours:
        raise SubkeyError("instance", "the subkey list is for another instance")
    if subkeys.keyring is not None and subkeys.keyring > manifest.version:
        raise SubkeyError(
            "keyring",
            f"the subkey list was issued under keyring version {subkeys.keyring}, "
            f"newer than the one in force ({manifest.version})",
        )


def _refuse_long_term(manifest: Manifest, subkeys: SubkeyList) -> None:
    """A long-term key is never destroyed: sealing to it as a subkey would forfeit the week."""
    long_term = {r.hybrid_key for r in manifest.recipients if r.hybrid_key is not None}
    if any(key in long_term for _, key in subkeys.subkeys):
        raise SubkeyError(
            "long-term", "the list gives a reviewer's long-term hybrid key as a subkey"
        )
