"""What export and reply bundles say: typed manifests on top of the bundle container.

An export bundle (server -> review workstation) lists new envelopes with the
non-secret facts reviewers need (source designation, kind, day) and the public
keys of the sources involved. A reply bundle (review -> server) carries replies
sealed to sources, acknowledgements of what was imported, and status notices.
Both name the instance they belong to and a random bundle id, so that readers
refuse a bundle meant for another instance or one already applied.

Export bundles form a chain (format 2): each carries its sequence number and
the digest of the previous export's signed manifest, so a workstation notices a
bundle that never arrived and a server that forked or restarted its chain. A
`resend` bundle holds every item exported before and not yet acknowledged, so it
fills every gap below its number. Format 1 exports (before the chain) are still
read, with no sequence; `review.intake.importer` decides when to accept them.

Export bundles of format 3 also carry receipts: the ids of every reply bundle
the server has applied, so the workstation learns which of its reply bundles
arrived and can name one that never did. Formats 1 and 2 carry none.

Export bundles of format 4 also carry the server's audit log head: how many
entries it holds, its newest link, and its link at the count the previous
export carried, so the workstation can say when the log was cut or written
again between two exports it imported (`AuditProof`).

Export bundles of format 5 also carry the server's notice counts: for each
source shown a numbered notice, the number it shows, so that a workspace put
back from an older copy numbers its next notice past it instead of from its
own past count, which the server would take for an older notice and skip.

Export bundles of format 6 also carry the unheld prekeys sources' devices
reported (`crypto.binding.UnheldPrekey`): replies sealed to them will never
open, and the workstation tells the reviewers who wrote them.

Export bundles of format 9 also carry the digest of the server's keyring in force
(`keyring_digest`), so that the workstation sees a keyring of the version it holds
but another content: one installed on the server that the authorities did not give
the workstation (PROTOCOL §13.10).

Export bundles of format 7 also carry what the server holds of acknowledgements
(`AckState`): the workspace key it takes them from, and every item a bundle not
sealed by that key acknowledged, which it kept and exports again, so the
workstation acknowledges again what it holds and names the rest.

Reply bundles of format 2 carry voids: the bundles the reviewers took back, each
with the replies it carried, so that the server refuses a voided bundle handed
in later and does not post twice a reply that a voided bundle it had already
applied posted. A reply bundle with nothing to void is written as format 1.

Reply bundles of format 3 number their notices: each carries the workstation's
count of notices issued to its source (`seq`), so that a server shows the
latest one issued, whatever order bundles are handed in, and refuses to let an
older notice replace it (a courier who kept back a "needs-info" and handed it
in after "closed"). They always carry `voids`, empty or not. A bundle whose
notices carry no number is written as format 1 or 2, as before.

Reply bundles of format 4 carry a seal (`AckSeal`): the review workspace's own
key (derived from the workspace key, which a reviewer's key file alone does not
open) over the bundle's id, instance and acknowledgements, and the word of each
earlier workspace key that this one took its place. The server deletes what a
bundle acknowledges only under the seal of the workspace key it holds, so a
reviewer's key file used elsewhere (a colleague with a stick nobody imported)
deletes nothing.

Reply bundles of format 5 seal the whole bundle: the workspace's key signs the
manifest as the container signs it (every reply's id, source, size and hash,
every notice and void, the date, the signer's key), the seal's own signature
left out. A format 4 seal covered the acknowledgements alone, so whoever held a
reviewer's key file and a sealed bundle could lift its seal onto replies of
their own (a trap for a source) under the same bundle id, and the workstation's
bundle was then a replay. A format 4 seal is still read and checked, but the
server takes it for no seal (`AckSeal.binds_bundle`).

Reply bundles of format 5 may also carry `imported`, under the same seal: the
newest export number through which the workspace's chain is complete (every
bundle up to it imported, or filled by a later resend). Until a sealed bundle
says a server's newest export arrived, its next export carries every item it
still holds again (a resend), so a bundle taken by someone with a staff login
(or a lost stick) loses no report; the workspace imports the ones it has filed
as duplicates, idempotently.

Reply bundles of format 6 (written since) are format 5 with `restore`, under the
same seal: the id of the server's last restore the workspace had seen in an
export (`RestoreState.epoch`, null before any). A server applies a bundle only if
it names the server's own last restore: one it applied before a backup was made
of it is no longer recorded there once that backup is restored, and was applied
again; now the restore draws a new id, and the old bundle names another.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, BinaryIO, Final

from crypto import constants as C
from crypto.binding import UnheldPrekey
from crypto.bundle import BundleReader, ItemData, bundle_body, write_bundle
from crypto.encoding import b64decode, b64encode, blake2b, canonical_json
from crypto.errors import FormatError, UnsupportedVersionError, VerificationError
from crypto.fields import date, exact_object, integer, list_of, matching, string
from crypto.keys import PublicKey, SigningKey, VerifyKey

EXPORT_TYPE: Final = "raazdar-export"
REPLIES_TYPE: Final = "raazdar-replies"
FORMAT: Final = 1
# Export bundles since the chain (format 4: receipts and the audit head); format 1
# exports carry no sequence.
# Format 2: chained, no receipts.
EXPORT_FORMAT_CHAIN: Final = 2
# Format 3: receipts, no audit head.
EXPORT_FORMAT_RECEIPTS: Final = 3
# Format 4: the audit head, no notice counts.
EXPORT_FORMAT_AUDIT: Final = 4
# Format 5: notice counts, no unheld prekeys.
EXPORT_FORMAT_NOTICES: Final = 5
# Format 6: unheld prekeys, no acknowledgement state.
EXPORT_FORMAT_UNHELD: Final = 6
# Format 7: acknowledgement state, no restore mark.
EXPORT_FORMAT_ACKS: Final = 7
EXPORT_FORMAT_RESTORE: Final = 8
EXPORT_FORMAT: Final = 9
EXPORT_FORMATS: Final = frozenset(
    {
        FORMAT,
        EXPORT_FORMAT_CHAIN,
        EXPORT_FORMAT_RECEIPTS,
        EXPORT_FORMAT_AUDIT,
        EXPORT_FORMAT_NOTICES,
        EXPORT_FORMAT_UNHELD,
        EXPORT_FORMAT_ACKS,
        EXPORT_FORMAT_RESTORE,
        EXPORT_FORMAT,
    }
)
# The highest notice number: one past it still fits the server's 32-bit column.
NOTICE_SEQ_MAX: Final = 2**31 - 2
# Reply bundles that void earlier ones; format 1 (nothing voided) is still written.
REPLIES_FORMAT: Final = 2
# Reply bundles whose notices are numbered per source (and always carry voids).
REPLIES_FORMAT_NUMBERED: Final = 3
# Reply bundles whose acknowledgements the workspace's own key seals (always carry voids).
REPLIES_FORMAT_SEALED: Final = 4
# Reply bundles whose whole manifest the workspace's own key seals.
REPLIES_FORMAT_BOUND: Final = 5
# Reply bundles sealed whole that name the server's last restore they know of (written since).
REPLIES_FORMAT_RESTORE: Final = 6
REPLIES_FORMATS: Final = frozenset(
    {
        FORMAT,
        REPLIES_FORMAT,
        REPLIES_FORMAT_NUMBERED,
        REPLIES_FORMAT_SEALED,
        REPLIES_FORMAT_BOUND,
        REPLIES_FORMAT_RESTORE,
    }
)
# What the first bundle of a chain names as its predecessor.
CHAIN_START: Final = bytes(32)
_HEX_ID: Final = re.compile(r"[0-9a-f]{32}")
_DESIGNATION: Final = re.compile(r"[A-Za-z][A-Za-z' -]{0,63}")
_KIND: Final = re.compile(r"[a-z][a-z0-9-]{0,31}")
_NOTICE: Final = re.compile(r"[a-z][a-z0-9-]{0,31}")


def new_bundle_id() -> str:
    """A random 128-bit bundle id."""
    return secrets.token_hex(16)


def manifest_digest(signed_manifest: dict[str, Any]) -> bytes:
    """The digest that chains export bundles: of the whole signed manifest, items included."""
    return blake2b(canonical_json(signed_manifest), person=C.PERSON_BUNDLE_CHAIN)


@dataclass(frozen=True, slots=True)
class ChainLink:
    """Where an export bundle stands in its instance's chain."""

    sequence: int
    previous: bytes
    resend: bool = False

    def __post_init__(self) -> None:
        if type(self.sequence) is not int or self.sequence < 1:
            raise FormatError("a bundle sequence number is a positive integer")
        if len(self.previous) != len(CHAIN_START):
            raise FormatError("a previous-bundle digest is 32 bytes")
        if self.sequence == 1 and self.previous != CHAIN_START:
            raise FormatError("the first bundle of a chain follows no other")


@dataclass(frozen=True, slots=True)
class AuditProof:
    """The server's audit chain as an export saw it (PROTOCOL §13.5).

    `entries` and `head` are the chain's length and newest link; `link` is its
    link after `since` entries, `since` being the length the previous export
    carried (0 and the chain's start when there was none). A log that only grew
    keeps that link; one cut or written again since then does not.
    """

    entries: int
    head: bytes
    since: int
    link: bytes

    def __post_init__(self) -> None:
        if type(self.entries) is not int or type(self.since) is not int:
            raise FormatError("audit entry counts are integers")
        if self.entries < 0 or self.since < 0:
            raise FormatError("audit entry counts are not negative")
        if len(self.head) != len(CHAIN_START) or len(self.link) != len(CHAIN_START):
            raise FormatError("an audit link is 32 bytes")

    def to_json(self) -> dict[str, Any]:
        """The manifest's `audit` field."""
        return {
            "entries": self.entries,
            "head": b64encode(self.head),
            "since": self.since,
            "link": b64encode(self.link),
        }

    @classmethod
    def from_json(cls, value: Any) -> AuditProof:
        """Parse the manifest's `audit` field."""
        fields = exact_object(value, {"entries", "head", "since", "link"}, "audit")
        return cls(
            integer(fields["entries"], "audit entries"),
            b64decode(_str(fields["head"]), length=32),
            integer(fields["since"], "audit since"),
            b64decode(_str(fields["link"]), length=32),
        )


@dataclass(frozen=True, slots=True)
class AckState:
    """What the server holds of acknowledgements (export format 7, PROTOCOL §13.6).

    `key`: the workspace key whose seal deletes (None before the first sealed bundle);
    `held`: the items a bundle not sealed by it acknowledged, kept and exported again.
    """

    key: VerifyKey | None
    held: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        """The manifest's `acks` field."""
        return {
            "key": self.key.to_text() if self.key is not None else None,
            "held": sorted(self.held),
        }

    @classmethod
    def from_json(cls, value: Any) -> AckState:
        """Parse the manifest's `acks` field."""
        fields = exact_object(value, {"key", "held"}, "acks")
        key = None if fields["key"] is None else VerifyKey.from_text(_str(fields["key"]))
        return cls(key, _unique_ids(fields["held"], "held item"))


@dataclass(frozen=True, slots=True)
class RestoreState:
    """The restores the server has finished (export format 8, PROTOCOL §13.7).

    `epoch`: a random id the purge that finished the last one drew (None before any);
    another id than the previous export's means the server was put back from a backup
    in between, whatever its chain and audit log show.
    """

    count: int
    epoch: str | None

    def __post_init__(self) -> None:
        if type(self.count) is not int or self.count < 0:
            raise FormatError("a restore count is a non-negative integer")
        if (self.count == 0) != (self.epoch is None):
            raise FormatError("a restore id comes with a restore, and only then")
        if self.epoch is not None:
            _hex_id(self.epoch)

    def to_json(self) -> dict[str, Any]:
        """The manifest's `restore` field."""
        return {"count": self.count, "epoch": self.epoch}

    @classmethod
    def from_json(cls, value: Any) -> RestoreState:
        """Parse the manifest's `restore` field."""
        fields = exact_object(value, {"count", "epoch"}, "restore")
        epoch = None if fields["epoch"] is None else _hex_id(fields["epoch"])
        return cls(integer(fields["count"], "restore count"), epoch)


@dataclass(frozen=True, slots=True)
class ExportEntry:
    """One envelope in an export bundle, as reviewers will file it."""

    id: str
    submission: str
    source: str
    kind: str
    day: dt.date


@dataclass(frozen=True, slots=True)
class ExportManifest:
    """What an export bundle carries besides the envelopes themselves."""

    bundle_id: str
    instance_id: str
    created: dt.date
    keyring_version: int
    entries: tuple[ExportEntry, ...]
    sources: dict[str, PublicKey]
    # None only in a format 1 bundle, written before exports formed a chain.
    chain: ChainLink | None = None
    # The reply bundles the server has applied; None in a bundle of format 1 or 2.
    receipts: tuple[str, ...] | None = None
    # The server's audit log head; None in a bundle of format 1, 2 or 3.
    audit: AuditProof | None = None
    # The number of the notice each source is shown, for those shown a numbered one;
    # None in a bundle of format 1 to 4.
    notice_counts: dict[str, int] | None = None
    # The prekeys sources' devices say they hold no secret of; None in format 1 to 5.
    unheld: tuple[UnheldPrekey, ...] | None = None
    # The acknowledgement key held and the items held; None in format 1 to 6.
    acks: AckState | None = None
    # The restores the server finished; None in format 1 to 7.
    restore: RestoreState | None = None
    # The digest of the keyring in force on the server (`Manifest.digest`); None in
    # format 1 to 8. The workstation compares it with the keyring of that version it holds.
    keyring_digest: bytes | None = None

    def __post_init__(self) -> None:
        if self.receipts is not None and self.chain is None:
            raise FormatError("receipts come only in a chained bundle (format 3)")
        if self.audit is not None and self.receipts is None:
            raise FormatError("an audit head comes only with receipts (format 4)")
        if self.notice_counts is not None and self.audit is None:
            raise FormatError("notice counts come only with an audit head (format 5)")
        for count in (self.notice_counts or {}).values():
            _notice_seq(count)
        if self.unheld is not None and self.notice_counts is None:
            raise FormatError("unheld prekeys come only with notice counts (format 6)")
        if self.acks is not None and self.unheld is None:
            raise FormatError("held acknowledgements come only with unheld prekeys (format 7)")
        if self.restore is not None and self.acks is None:
            raise FormatError("a restore mark comes only with acknowledgements (format 8)")
        if self.keyring_digest is not None and (
            self.restore is None or len(self.keyring_digest) != 32
        ):
            raise FormatError(
                "a keyring's 32-byte digest comes only with a restore mark (format 9)"
            )

    @property
    def format(self) -> int:
        """The format this manifest is written in: the oldest that holds what it carries."""
        if self.chain is None:
            return FORMAT
        if self.receipts is None:
            return EXPORT_FORMAT_CHAIN
        if self.audit is None:
            return EXPORT_FORMAT_RECEIPTS
        if self.notice_counts is None:
            return EXPORT_FORMAT_AUDIT
        if self.unheld is None:
            return EXPORT_FORMAT_NOTICES
        if self.acks is None:
            return EXPORT_FORMAT_UNHELD
        if self.restore is None:
            return EXPORT_FORMAT_ACKS
        return EXPORT_FORMAT_RESTORE if self.keyring_digest is None else EXPORT_FORMAT

    def to_json(self) -> dict[str, Any]:
        """The manifest fields (the container adds `items` and `signer`)."""
        chained = (
            {
                "sequence": self.chain.sequence,
                "previous": b64encode(self.chain.previous),
                "resend": self.chain.resend,
            }
            if self.chain is not None
            else {}
        )
        if self.receipts is not None:
            chained["receipts"] = sorted(self.receipts)
        if self.audit is not None:
            chained["audit"] = self.audit.to_json()
        if self.notice_counts is not None:
            chained["notices"] = [
                {"source": d, "seq": n} for d, n in sorted(self.notice_counts.items())
            ]
        if self.unheld is not None:
            chained["unheld"] = sorted(
                (u.to_json() for u in self.unheld), key=lambda u: (u["key_id"], u["signer"])
            )
        if self.acks is not None:
            chained["acks"] = self.acks.to_json()
        if self.restore is not None:
            chained["restore"] = self.restore.to_json()
        if self.keyring_digest is not None:
            chained["keyring_digest"] = b64encode(self.keyring_digest)
        return chained | {
            "type": EXPORT_TYPE,
            "format": self.format,
            "bundle_id": self.bundle_id,
            "instance_id": self.instance_id,
            "created": self.created.isoformat(),
            "keyring_version": self.keyring_version,
            "entries": [
                {
                    "id": e.id,
                    "submission": e.submission,
                    "source": e.source,
                    "kind": e.kind,
                    "day": e.day.isoformat(),
                }
                for e in self.entries
            ],
            "sources": [
                {"designation": d, "public_key": k.to_text()}
                for d, k in sorted(self.sources.items())
            ],
        }

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> ExportManifest:
        """Parse and check an export manifest (already signature-checked)."""
        version = obj.get("format")
        chain_fields = _since(version, EXPORT_FORMAT_CHAIN, {"sequence", "previous", "resend"})
        receipt_fields = _since(version, EXPORT_FORMAT_RECEIPTS, {"receipts"})
        audit_fields = _since(version, EXPORT_FORMAT_AUDIT, {"audit"})
        notice_fields = _since(version, EXPORT_FORMAT_NOTICES, {"notices"})
        unheld_fields = _since(version, EXPORT_FORMAT_UNHELD, {"unheld"})
        ack_fields = _since(version, EXPORT_FORMAT_ACKS, {"acks"})
        restore_fields = _since(version, EXPORT_FORMAT_RESTORE, {"restore"})
        keyring_fields = _since(version, EXPORT_FORMAT, {"keyring_digest"})
        extra = {
            "entries",
            "sources",
            "keyring_version",
            *chain_fields,
            *receipt_fields,
            *audit_fields,
            *notice_fields,
            *unheld_fields,
            *ack_fields,
            *restore_fields,
            *keyring_fields,
        }
        _header(obj, EXPORT_TYPE, extra, EXPORT_FORMATS)
        chain = None
        if chain_fields:
            if not isinstance(obj["resend"], bool):
                raise FormatError("resend must be true or false")
            chain = ChainLink(
                _int(obj["sequence"]), b64decode(_str(obj["previous"]), length=32), obj["resend"]
            )
        sources = {}
        for item in _list(obj["sources"]):
            fields = _exact(item, {"designation", "public_key"})
            sources[_designation(fields["designation"])] = PublicKey.from_text(
                _str(fields["public_key"])
            )
        entries = []
        for item in _list(obj["entries"]):
            fields = _exact(item, {"id", "submission", "source", "kind", "day"})
            entry = ExportEntry(
                id=_hex_id(fields["id"]),
                submission=_hex_id(fields["submission"]),
                source=_designation(fields["source"]),
                kind=matching(_KIND, fields["kind"], "kind"),
                day=_date(fields["day"]),
            )
            if entry.source not in sources:
                raise FormatError("an entry names a source whose key is not in the bundle")
            entries.append(entry)
        _check_items(obj, [e.id for e in entries])
        return cls(
            bundle_id=_hex_id(obj["bundle_id"]),
            instance_id=_hex_id(obj["instance_id"]),
            created=_date(obj["created"]),
            keyring_version=_int(obj["keyring_version"]),
            entries=tuple(entries),
            sources=sources,
            chain=chain,
            receipts=_unique_ids(obj["receipts"], "receipt") if receipt_fields else None,
            audit=AuditProof.from_json(obj["audit"]) if audit_fields else None,
            notice_counts=_notice_counts(obj["notices"]) if notice_fields else None,
            unheld=_unheld(obj["unheld"]) if unheld_fields else None,
            acks=AckState.from_json(obj["acks"]) if ack_fields else None,
            restore=RestoreState.from_json(obj["restore"]) if restore_fields else None,
            keyring_digest=(
                b64decode(_str(obj["keyring_digest"]), length=32) if keyring_fields else None
            ),
        )


@dataclass(frozen=True, slots=True)
class ReplyEntry:
    """One reply envelope, for the source with this designation."""

    id: str
    source: str


@dataclass(frozen=True, slots=True)
class Notice:
    """A short status shown to a source (e.g. `received`, `under-review`, `closed`)."""

    source: str
    status: str
    # How many notices the workstation has issued to this source, this one included
    # (format 3); None in bundles of format 1 and 2.
    seq: int | None = None

    def __post_init__(self) -> None:
        if self.seq is not None:
            _notice_seq(self.seq)


@dataclass(frozen=True, slots=True)
class Void:
    """A reply bundle the reviewers took back: never to be applied, nor its replies posted twice."""

    bundle: str
    # The replies it carried: already posted if the server had applied it.
    replies: tuple[str, ...]


def _ack_message(bundle_id: str, instance_id: str, acks: Sequence[str]) -> bytes:
    return canonical_json({"bundle_id": bundle_id, "instance_id": instance_id, "acks": list(acks)})


@dataclass(frozen=True, slots=True)
class Handover:
    """An earlier workspace key's word that `AckSeal.key` took its place (a rewrapped workspace)."""

    key: VerifyKey
    signature: bytes


@dataclass(frozen=True, slots=True)
class AckSeal:
    """The workspace's own key over a reply bundle (format 5), or its acknowledgements (format 4).

    A server holding the workspace's key applies a bundle only under a format 5 seal
    of that key, or of one it handed over to; a format 4 seal counts as none.
    """

    key: VerifyKey
    signature: bytes
    handovers: tuple[Handover, ...] = ()
    # Format 5: over the whole bundle manifest; format 4 (False): over the acknowledgements only.
    binds_bundle: bool = False

    @classmethod
    def make(
        cls,
        bundle_id: str,
        instance_id: str,
        acks: Sequence[str],
        key: SigningKey,
        earlier: Sequence[SigningKey] = (),
    ) -> AckSeal:
        """Seal these acknowledgements with `key`, each `earlier` key handing over to it."""
        public = key.verify_key
        return cls(
            public,
            key.sign(C.SIG_CONTEXT_ACK_SEAL, _ack_message(bundle_id, instance_id, acks)),
            tuple(
                Handover(e.verify_key, e.sign(C.SIG_CONTEXT_ACK_HANDOVER, public.raw))
                for e in earlier
                if e.verify_key != public
            ),
        )

    def check(self, bundle_id: str, instance_id: str, acks: Sequence[str]) -> None:
        """Raise `VerificationError("seal")` unless a format 4 seal and every handover verify."""
        self._check(C.SIG_CONTEXT_ACK_SEAL, _ack_message(bundle_id, instance_id, acks))

    def check_bundle(self, body: dict[str, Any]) -> None:
        """Raise `VerificationError("seal")` unless a format 5 seal over `body` (the bundle's
        whole manifest, as its container signs it) and every handover verify."""
        self._check(C.SIG_CONTEXT_ACK_SEAL_BUNDLE, _bundle_message(body))

    def _check(self, context: bytes, message: bytes) -> None:
        try:
            self.key.verify(context, message, self.signature)
            for handover in self.handovers:
                handover.key.verify(C.SIG_CONTEXT_ACK_HANDOVER, self.key.raw, handover.signature)
        except VerificationError as exc:
            raise VerificationError("seal", "the acknowledgements' seal does not verify") from exc

    def to_json(self) -> dict[str, Any]:
        """The manifest's `seal` field."""
        return {
            "key": self.key.to_text(),
            "signature": b64encode(self.signature),
            "handovers": [
                {"key": h.key.to_text(), "signature": b64encode(h.signature)}
                for h in self.handovers
            ],
        }

    @classmethod
    def from_json(cls, value: Any, *, binds_bundle: bool = False) -> AckSeal:
        """Parse the manifest's `seal` field (not yet checked: `check`, `check_bundle`)."""
        fields = exact_object(value, {"key", "signature", "handovers"}, "seal")
        handovers = tuple(
            Handover(
                VerifyKey.from_text(_str(h["key"])), b64decode(_str(h["signature"]), length=64)
            )
            for h in (
                exact_object(v, {"key", "signature"}, "handover")
                for v in _list(fields["handovers"])
            )
        )
        if len({h.key for h in handovers}) != len(handovers):
            raise FormatError("a key hands over twice")
        return cls(
            VerifyKey.from_text(_str(fields["key"])),
            b64decode(_str(fields["signature"]), length=64),
            handovers,
            binds_bundle,
        )


def _bundle_message(body: dict[str, Any]) -> bytes:
    """What a format 5 seal signs: the bundle's manifest, the seal's own signature left out."""
    seal = {k: v for k, v in body["seal"].items() if k != "signature"}
    return canonical_json(dict(body, seal=seal))


@dataclass(frozen=True, slots=True)
class RestoreSeen:
    """The server's last restore a reply bundle's workspace knew of (format 6, PROTOCOL §13.9).

    `epoch`: the `RestoreState.epoch` of the newest export imported there (None: none yet).
    """

    epoch: str | None

    def __post_init__(self) -> None:
        if self.epoch is not None:
            _hex_id(self.epoch)


def seal_replies(
    manifest: ReplyManifest,
    files: Sequence[ItemData],
    signer: VerifyKey,
    key: SigningKey,
    earlier: Sequence[SigningKey] = (),
    imported: int | None = None,
    restore: RestoreSeen | None = None,
) -> ReplyManifest:
    """Seal a reply bundle whole (format 5, or 6 with `restore`) with the workspace's key.

    As `signer` will sign it. `files[i]` is the envelope of `manifest.replies[i]`; each
    `earlier` key hands over to `key`; `imported`, when given, says under the seal which
    exports the workspace has, and `restore` which restore of the server it last knew of.
    """
    public = key.verify_key
    handovers = tuple(
        Handover(e.verify_key, e.sign(C.SIG_CONTEXT_ACK_HANDOVER, public.raw))
        for e in earlier
        if e.verify_key != public
    )
    unsigned = AckSeal(public, bytes(64), handovers, binds_bundle=True)
    draft = replace(
        manifest,
        seal=unsigned,
        imported=manifest.imported if imported is None else imported,
        restore=manifest.restore if restore is None else restore,
    )
    body = bundle_body(draft.to_json(), _pair(manifest.replies, files), signer)
    signature = key.sign(C.SIG_CONTEXT_ACK_SEAL_BUNDLE, _bundle_message(body))
    return replace(draft, seal=AckSeal(public, signature, handovers, binds_bundle=True))


@dataclass(frozen=True, slots=True)
class ReplyManifest:
    """What a reply bundle carries besides the reply envelopes."""

    bundle_id: str
    instance_id: str
    created: dt.date
    acks: tuple[str, ...]
    replies: tuple[ReplyEntry, ...]
    notices: tuple[Notice, ...]
    # Bundles taken back that this one supersedes (format 2; none in format 1).
    voids: tuple[Void, ...] = ()
    # The workspace's own key over the acknowledgements (format 4; None before).
    seal: AckSeal | None = None
    # The newest export number through which the workspace's chain is complete (format 5,
    # under the seal): the server carries every item of a later export again until then.
    imported: int | None = None
    # The server's last restore the workspace knew of (format 6, under the seal); None
    # in a bundle of an earlier format.
    restore: RestoreSeen | None = None

    def __post_init__(self) -> None:
        bound = self.seal is not None and self.seal.binds_bundle
        if self.imported is not None and (not bound or self.imported < 0):
            raise FormatError("the exports imported are said only under a seal, from 0 (format 5)")
        if self.restore is not None and not bound:
            raise FormatError("the server's restore is named only under a seal (format 6)")
        voided = [v.bundle for v in self.voids]
        if len(set(voided)) != len(voided):
            raise FormatError("a bundle is voided twice")
        if self.bundle_id in voided:
            raise FormatError("a reply bundle cannot void itself")
        if len({n.seq is None for n in self.notices}) > 1:
            raise FormatError("a bundle's notices are all numbered or none is")

    @property
    def format(self) -> int:
        """The format this manifest is written in: the oldest that holds what it carries."""
        if self.restore is not None:
            return REPLIES_FORMAT_RESTORE
        if self.seal is not None:
            return REPLIES_FORMAT_BOUND if self.seal.binds_bundle else REPLIES_FORMAT_SEALED
        if any(n.seq is not None for n in self.notices):
            return REPLIES_FORMAT_NUMBERED
        return REPLIES_FORMAT if self.voids else FORMAT

    def to_json(self) -> dict[str, Any]:
        """The manifest fields (the container adds `items` and `signer`)."""
        version = self.format
        voids: dict[str, Any] = (
            {"voids": [{"bundle": v.bundle, "replies": list(v.replies)} for v in self.voids]}
            if version != FORMAT
            else {}
        )
        if self.seal is not None:
            voids["seal"] = self.seal.to_json()
        if self.imported is not None:
            voids["imported"] = self.imported
        if self.restore is not None:
            voids["restore"] = self.restore.epoch
        return voids | {
            "type": REPLIES_TYPE,
            "format": version,
            "bundle_id": self.bundle_id,
            "instance_id": self.instance_id,
            "created": self.created.isoformat(),
            "acks": list(self.acks),
            "replies": [{"id": r.id, "source": r.source} for r in self.replies],
            "notices": [
                {"source": n.source, "status": n.status}
                | ({"seq": n.seq} if n.seq is not None else {})
                for n in self.notices
            ],
        }

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> ReplyManifest:
        """Parse and check a reply manifest (already signature-checked)."""
        version = obj.get("format")
        restoring = version == REPLIES_FORMAT_RESTORE
        bound = version in (REPLIES_FORMAT_BOUND, REPLIES_FORMAT_RESTORE)
        sealed = version in (REPLIES_FORMAT_SEALED, REPLIES_FORMAT_BOUND, REPLIES_FORMAT_RESTORE)
        voiding = version in (
            REPLIES_FORMAT,
            REPLIES_FORMAT_NUMBERED,
            REPLIES_FORMAT_SEALED,
            REPLIES_FORMAT_BOUND,
            REPLIES_FORMAT_RESTORE,
        )
        numbered = version == REPLIES_FORMAT_NUMBERED
        extra = {
            "acks",
            "replies",
            "notices",
            *({"voids"} if voiding else set()),
            *({"seal"} if sealed else set()),
            # Format 5 may say which exports the workspace imported, under its seal.
            *({"imported"} if bound and "imported" in obj else set()),
            # Format 6 always names the server's last restore it knew of, or null.
            *({"restore"} if restoring else set()),
        }
        _header(obj, REPLIES_TYPE, extra, REPLIES_FORMATS)
        acks = tuple(_hex_id(a) for a in _list(obj["acks"]))
        if len(set(acks)) != len(acks):
            raise FormatError("an item is acknowledged twice")
        replies = tuple(
            ReplyEntry(_hex_id(f["id"]), _designation(f["source"]))
            for f in (_exact(r, {"id", "source"}) for r in _list(obj["replies"]))
        )
        fields = {"source", "status", *({"seq"} if numbered else set())}
        notices = tuple(
            Notice(
                _designation(f["source"]),
                matching(_NOTICE, f["status"], "status"),
                integer(f["seq"], "a notice's number") if "seq" in f else None,
            )
            # Formats 4 to 6 number their notices, or (all or none) not.
            for f in (_exact(n, _notice_fields(n, fields, sealed)) for n in _list(obj["notices"]))
        )
        voids = tuple(
            Void(_hex_id(f["bundle"]), _unique_ids(f["replies"], "voided reply"))
            for f in (_exact(v, {"bundle", "replies"}) for v in _list(obj.get("voids", [])))
        )
        _check_items(obj, [r.id for r in replies])
        bundle_id, instance_id = _hex_id(obj["bundle_id"]), _hex_id(obj["instance_id"])
        seal = AckSeal.from_json(obj["seal"], binds_bundle=bound) if sealed else None
        imported = integer(obj["imported"], "the exports imported") if "imported" in extra else None
        restore = (
            RestoreSeen(None if obj["restore"] is None else _hex_id(obj["restore"]))
            if restoring
            else None
        )
        if seal is not None and bound:
            seal.check_bundle(obj)
        elif seal is not None:
            seal.check(bundle_id, instance_id, acks)
        return cls(
            bundle_id=bundle_id,
            instance_id=instance_id,
            created=_date(obj["created"]),
            acks=acks,
            replies=replies,
            notices=notices,
            voids=voids,
            seal=seal,
            imported=imported,
            restore=restore,
        )


def write_export(
    dst: BinaryIO,
    manifest: ExportManifest,
    files: Sequence[Path],
    signer: SigningKey,
    on_size: Callable[[int], None] | None = None,
) -> bytes:
    """Write an export bundle (`files[i]` is the envelope of `manifest.entries[i]`); its digest.

    `on_size` is told the bundle's size before its first byte (`write_bundle`).
    """
    body = write_bundle(
        dst, manifest.to_json(), _pair(manifest.entries, files), signer, on_size=on_size
    )
    return manifest_digest(body)


def write_replies(
    dst: BinaryIO, manifest: ReplyManifest, files: Sequence[ItemData], signer: SigningKey
) -> None:
    """Write a reply bundle: `files[i]` (a file, or bytes) is the envelope of `replies[i]`."""
    write_bundle(dst, manifest.to_json(), _pair(manifest.replies, files), signer)


def read_export(
    src: BinaryIO, trusted: Collection[VerifyKey], instance_id: str
) -> tuple[BundleReader, ExportManifest]:
    """Verify an export bundle's signature and manifest; items are read from the reader."""
    reader = BundleReader(src, trusted)
    manifest = ExportManifest.from_json(reader.manifest)
    _same_instance(manifest.instance_id, instance_id)
    return reader, manifest


def read_replies(
    src: BinaryIO, trusted: Collection[VerifyKey], instance_id: str
) -> tuple[BundleReader, ReplyManifest]:
    """Verify a reply bundle's signature and manifest; items are read from the reader."""
    reader = BundleReader(src, trusted)
    manifest = ReplyManifest.from_json(reader.manifest)
    _same_instance(manifest.instance_id, instance_id)
    return reader, manifest


def _pair(
    entries: Sequence[ExportEntry | ReplyEntry], files: Sequence[ItemData]
) -> list[tuple[str, ItemData]]:
    if len(entries) != len(files):
        raise FormatError("one file per entry")
    return [(e.id, f) for e, f in zip(entries, files, strict=True)]


def _same_instance(found: str, expected: str) -> None:
    if found != expected:
        raise VerificationError("instance", "bundle is for another instance")


def _header(
    obj: dict[str, Any], kind: str, extra: set[str], formats: frozenset[int] = frozenset({FORMAT})
) -> None:
    if obj.get("type") != kind:
        raise FormatError(f"not a {kind} bundle")
    if type(obj.get("format")) is not int or obj.get("format") not in formats:
        raise UnsupportedVersionError(f"unsupported {kind} format {obj.get('format')!r}")
    expected = {"type", "format", "bundle_id", "instance_id", "created", "items", "signer"}
    if set(obj) != expected | extra:
        raise FormatError(f"{kind} manifest has missing or unexpected fields")


def _check_items(obj: dict[str, Any], ids: list[str]) -> None:
    items = [i.get("id") if isinstance(i, dict) else None for i in _list(obj["items"])]
    if items != ids:
        raise FormatError("bundle items do not match the manifest's entries, in order")


def _exact(value: Any, keys: set[str]) -> dict[str, Any]:
    return exact_object(value, keys, "entry")


def _list(value: Any) -> list[Any]:
    return list_of(value, "field")


def _str(value: Any) -> str:
    return string(value, "field")


def _int(value: Any) -> int:
    number = integer(value, "field")
    if number < 1:
        raise FormatError("expected a positive integer")
    return number


def _hex_id(value: Any) -> str:
    return matching(_HEX_ID, value, "id")


def _unique_ids(value: Any, what: str) -> tuple[str, ...]:
    ids = tuple(_hex_id(i) for i in _list(value))
    if len(set(ids)) != len(ids):
        raise FormatError(f"a {what} is listed twice")
    return ids


def _notice_seq(value: Any) -> int:
    if type(value) is not int or not 1 <= value <= NOTICE_SEQ_MAX:
        raise FormatError(f"a notice's number must be a positive integer, at most {NOTICE_SEQ_MAX}")
    return value


def _notice_fields(value: Any, fields: set[str], sealed: bool) -> set[str]:
    if sealed and isinstance(value, dict) and "seq" in value:
        return fields | {"seq"}
    return fields


def _notice_counts(value: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for item in _list(value):
        fields = _exact(item, {"source", "seq"})
        source = _designation(fields["source"])
        if source in counts:
            raise FormatError("a source's notice count is listed twice")
        counts[source] = _notice_seq(fields["seq"])
    return counts


def _unheld(value: Any) -> tuple[UnheldPrekey, ...]:
    found = tuple(UnheldPrekey.from_json(item) for item in _list(value))
    if len({(u.key_id, u.signer) for u in found}) != len(found):
        raise FormatError("an unheld prekey is listed twice")
    return found


def _since(version: Any, first: int, fields: set[str]) -> set[str]:
    """`fields` if `version` is an export format from `first` on, else none."""
    found = type(version) is int and version in EXPORT_FORMATS and version >= first
    return fields if found else set()


def _designation(value: Any) -> str:
    return matching(_DESIGNATION, value, "source designation")


def _date(value: Any) -> dt.date:
    return date(value, "date")
