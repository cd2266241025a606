"""Key ceremonies done offline: authority keys, reviewer keys, and keyring drafts to sign.

A ceremony's output is files: key files (each under its own passphrase) and
keyring manifests. A new keyring starts as a draft (a manifest with no
signatures) that authority holders sign one at a time, each on their own
machine or turn at the workstation; once it carries the threshold it is
installed on the server and in the workspace. Nothing here talks to a network.

Forward secrecy is the authorities' explicit choice: a draft turns into keyring
format 3 (docs/PROTOCOL.md §8.9) only when asked to (`hybrid` in `draft`), with
every reviewer's long-term X-Wing key read from their own bound key file; from
then on every successor stays format 3, and a reviewer is added only with one.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Final

from crypto import (
    AuthorityKey,
    CodenameParams,
    Fingerprint,
    InstanceListing,
    KdfParams,
    KeyFile,
    KeyPair,
    Manifest,
    Recipient,
    SignedManifest,
    SigningKey,
    TimestampPolicy,
    check_names,
    check_step,
)
from crypto import constants as C
from crypto.encoding import parse_json_object
from crypto.errors import CryptoError, VerificationError
from crypto.hybrid import HybridPublicKey
from crypto.manifest import digest_text as digest_text
from review.errors import ReviewError
from review.workspace.erase import discard

# How long a keyring is valid unless the ceremony says otherwise.
DEFAULT_DAYS: Final = 365
MAX_HOLDERS: Final = 16
# The largest instance description read (`raazdar keyring instance-info` prints some 2 KiB).
DESCRIPTION_MAX_BYTES: Final = 64 * 1024


class CeremonyError(ReviewError):
    """A key ceremony step was refused."""


@dataclass(frozen=True)
class Signatures:
    """How far a keyring is signed: valid signatures, and what installing it needs."""

    have: int
    need: int
    rotation_have: int | None = None  # when the authority set changes: the new set's
    rotation_need: int | None = None

    @property
    def complete(self) -> bool:
        """Say whether the keyring carries every signature its installation needs."""
        return self.have >= self.need and (
            self.rotation_need is None or (self.rotation_have or 0) >= self.rotation_need
        )


def new_key_file(
    passphrase: str, *, kind: str, label: str, encryption: bool, kdf: KdfParams
) -> tuple[KeyFile, KeyPair]:
    """Make fresh keys and protect them under `passphrase`."""
    keys = KeyPair.generate(encryption=encryption, signing=True)
    return KeyFile.create(keys, passphrase, kind=kind, label=label, params=kdf), keys


def recipient(reviewer: str, name: str, key_file: KeyFile) -> Recipient:
    """The keyring entry for a reviewer key file, whose own signing key vouches for it.

    Only public keys are read, so the file must carry its binding (format 2 or
    3): a public key edited on its way here no longer verifies against it. The
    entry carries the file's X-Wing key, if it has one; `draft` keeps it only
    in a format-3 keyring.
    """
    encryption, signing = key_file.encryption_public, key_file.signing_public
    if encryption is None or signing is None:
        raise CeremonyError(f"{key_file.label!r} is not a reviewer key file (no X25519 key)")
    try:
        key_file.check_binding()
    except CryptoError as exc:
        raise CeremonyError(f"{key_file.label!r}: {exc}") from exc
    if not key_file.bound:
        raise CeremonyError(
            f"{key_file.label!r} is an old key file: its public keys are not signed",
            hint="its holder runs `raazdar-review keys upgrade FILE` and brings it again",
        )
    try:
        return Recipient(reviewer, name, encryption, signing, key_file.hybrid_public)
    except CryptoError as exc:
        raise CeremonyError(f"bad reviewer entry: {exc}") from exc


def hybrid_keys(current: Manifest, key_files: Sequence[KeyFile]) -> dict[str, HybridPublicKey]:
    """Each listed reviewer's X-Wing key, read from their bound key file, by reviewer id.

    A file counts for the reviewer the keyring in force lists with the same
    X25519 and Ed25519 keys; a file for nobody listed, or without an X-Wing
    key, is refused.
    """
    found: dict[str, HybridPublicKey] = {}
    for file in key_files:
        entry = recipient("unlisted", file.label, file)
        listed = next(
            (
                r
                for r in current.recipients
                if (r.encryption_key, r.signing_key) == (entry.encryption_key, entry.signing_key)
            ),
            None,
        )
        if listed is None:
            raise CeremonyError(
                f"{file.label!r}: the keyring in force lists no reviewer with these keys",
                hint="bring the key file the keyring lists (`keys show`)",
            )
        if entry.hybrid_key is None:
            raise CeremonyError(
                f"{file.label!r} holds no X-Wing key",
                hint="its holder runs `raazdar-review keys upgrade --add-hybrid FILE`",
            )
        found[listed.id] = entry.hybrid_key
    return found


def authority_init(
    out: Path,
    names: Sequence[str],
    passphrases: Sequence[str],
    *,
    threshold: int,
    recipients: Sequence[Recipient],
    today: dt.date,
    days: int = DEFAULT_DAYS,
    kdf: KdfParams = KdfParams.SENSITIVE,
) -> tuple[SignedManifest, list[Path]]:
    """Make n authority key files and keyring version 1, signed by all n holders.

    Every file is created anew (never over an existing one); if any step fails,
    the files already written are destroyed (overwritten, then removed), so a failed
    ceremony leaves nothing, in the directory or in the disk's blocks.
    """
    if not 1 <= len(names) <= MAX_HOLDERS or len(passphrases) != len(names):
        raise CeremonyError(f"an authority set has 1-{MAX_HOLDERS} holders, each a passphrase")
    if not 1 <= threshold <= len(names):
        raise CeremonyError(f"the threshold must be between 1 and {len(names)}")
    if not recipients:
        raise CeremonyError("a keyring needs at least one reviewer to seal reports to")
    out.mkdir(mode=0o700, parents=True, exist_ok=True)
    written: list[Path] = []
    try:
        keys: list[SigningKey] = []
        for i, (name, passphrase) in enumerate(zip(names, passphrases, strict=True), start=1):
            file, pair = new_key_file(
                passphrase, kind="authority", label=name, encryption=False, kdf=kdf
            )
            assert pair.signing is not None  # noqa: S101 - made with a signing key above
            written.append(write_new(out / f"authority-{i}.key", file.to_bytes()))
            keys.append(pair.signing)
        try:
            manifest = Manifest(
                version=1,
                previous=None,
                issued=today,
                expires=today + dt.timedelta(days=days),
                threshold=threshold,
                authorities=tuple(
                    AuthorityKey(name, k.verify_key) for name, k in zip(names, keys, strict=True)
                ),
                # Version 1 lists no instance (format 1): hybrid keys come with format 3.
                recipients=tuple(replace(r, hybrid_key=None) for r in recipients),
            )
        except CryptoError as exc:
            raise CeremonyError(f"bad keyring: {exc}") from exc
        signed = SignedManifest(manifest)
        for key in keys:
            signed = signed.sign(key)
        written.append(write_new(out / "keyring-v1.json", signed.to_bytes()))
    except BaseException:
        # Overwritten first: unlinked as they were, the key files stay in the disk's blocks.
        for path in written:
            discard(path)
        raise
    return signed, written


def draft(
    current: Manifest,
    *,
    today: dt.date,
    days: int = DEFAULT_DAYS,
    add: Recipient | None = None,
    remove: str | None = None,
    instance: InstanceListing | None = None,
    codename: CodenameParams | None = None,
    timestamp: TimestampPolicy | None = None,
    hybrid: Mapping[str, HybridPublicKey] | None = None,
) -> SignedManifest:
    """The next keyring, unsigned: `add` puts a reviewer in (replacing their old entry).

    `instance`, `codename` and `timestamp` replace those sections (all three
    turn a format-1 keyring into format 2); sections not given are carried over.
    `hybrid` (reviewer id to X-Wing key, from `hybrid_keys`) turns forward
    secrecy on: the draft is format 3, which every successor stays. Without
    it, a keyring below format 3 stays there and `add`'s X-Wing key is left out.
    """
    to3 = current.format == C.MANIFEST_FORMAT_HYBRID or hybrid is not None
    if to3 and current.instance is None and instance is None:
        raise CeremonyError(
            "forward secrecy needs a keyring that lists the instance (format 2) first",
            hint="draft one with `raazdar-review keys list-instance`, then turn it on",
        )
    recipients = [_with_hybrid(r, hybrid, to3) for r in current.recipients]
    if remove is not None:
        if all(r.id != remove for r in recipients):
            raise CeremonyError(f"the keyring in force lists no reviewer {remove!r}")
        recipients = [r for r in recipients if r.id != remove]
        if not recipients:
            raise CeremonyError("a keyring needs at least one reviewer: add another first")
    if add is not None:
        if to3 and add.hybrid_key is None:
            raise CeremonyError(
                f"the keyring seals to weekly subkeys (format 3): {add.id}'s key file"
                " needs an X-Wing key",
                hint="its holder runs `raazdar-review keys upgrade --add-hybrid FILE`",
            )
        entry = add if to3 else replace(add, hybrid_key=None)
        recipients = [r for r in recipients if r.id != add.id] + [entry]
    unknown = set(hybrid or ()) - {r.id for r in recipients}
    if unknown:
        raise CeremonyError(f"the keyring lists no reviewer {min(unknown)!r}")
    try:
        drafted = SignedManifest(
            current.successor(
                issued=today,
                expires=today + dt.timedelta(days=days),
                recipients=recipients,
                instance=instance,
                codename=codename,
                timestamp=timestamp,
            )
        )
        check_names(drafted.manifest)
    except CryptoError as exc:
        raise CeremonyError(f"bad keyring: {exc}") from exc
    return drafted


def _with_hybrid(
    r: Recipient, hybrid: Mapping[str, HybridPublicKey] | None, to3: bool
) -> Recipient:
    """A reviewer's entry in a draft of format 3 (`to3`) or below."""
    key = (hybrid or {}).get(r.id, r.hybrid_key)
    if to3 and key is None:
        raise CeremonyError(
            f"forward secrecy needs every reviewer's X-Wing key: {r.id} has none here",
            hint="bring their key file too (`keys upgrade --add-hybrid` gives it one)",
        )
    return replace(r, hybrid_key=key if to3 else None)


def sign(signed: SignedManifest, key: SigningKey, current: Manifest | None) -> SignedManifest:
    """Add one authority holder's signature, if their key is one the keyring needs."""
    wanted = {a.key.fingerprint for a in signed.manifest.authorities}
    if current is not None:
        wanted |= {a.key.fingerprint for a in current.authorities}
    if key.verify_key.fingerprint not in wanted:
        raise CeremonyError(
            "this key is not an authority key of this keyring",
            hint="sign with a key file made by `keys authority-init` for this instance",
        )
    return signed.sign(key)


def check_names_apart(manifest: Manifest) -> None:
    """Refuse to draft or sign a keyring in which two holders, or two reviewers, read alike."""
    try:
        check_names(manifest)
    except VerificationError as exc:
        raise CeremonyError(
            f"not signed: {exc}",
            hint="give each holder and each reviewer a name nobody could take for another's"
            " (`keys show` lists them); a draft that does not is not the one agreed: stop",
        ) from exc


def check_next(current: Manifest, new: Manifest) -> None:
    """Refuse to sign a keyring whose version is not the next after the one in force."""
    try:
        check_step(current, new)
    except VerificationError as exc:
        raise CeremonyError(
            f"not signed: {exc}",
            hint="a keyring with no successor could never drop whoever drafted it: have the"
            " draft made again (`keys` drafting commands number it themselves)",
        ) from exc


def signatures(signed: SignedManifest, current: Manifest | None) -> Signatures:
    """Count the valid signatures against what installing `signed` after `current` needs."""
    new = signed.manifest
    if current is None:
        return Signatures(len(signed.valid_signers(new.authorities)), new.threshold)
    have = len(signed.valid_signers(current.authorities))
    same = (new.authority_fingerprints, new.threshold) == (
        current.authority_fingerprints,
        current.threshold,
    )
    if same:
        return Signatures(have, current.threshold)
    return Signatures(
        have, current.threshold, len(signed.valid_signers(new.authorities)), new.threshold
    )


def describe(manifest: Manifest) -> list[str]:
    """Everything a keyring says, in words: authorities, threshold, reviewers, validity."""
    lines = [
        f"keyring v{manifest.version}: {manifest.threshold} of {len(manifest.authorities)}"
        " authority signatures",
        f"  format {manifest.format}{_format_meaning(manifest)}",
    ]
    lines += [f"  authority {a.key.fingerprint}  {a.name}" for a in manifest.authorities]
    for r in manifest.recipients:
        lines += _reviewer(" ", r)
    lines += instance_changes(None, manifest)
    lines.append(f"  valid {manifest.issued.isoformat()} to {manifest.expires.isoformat()}")
    lines.append(f"  digest {digest_text(manifest)}")
    return lines


def changes(current: Manifest | None, new: Manifest) -> list[str]:
    """What `new` changes, in words, for a holder to read before signing.

    Every field the keyring holds is compared: authorities (key and name), the
    threshold, each reviewer's name, encryption key and signing key, the instance's
    onions and server keys, the codename settings, the timestamp key, and the
    dates; then the digest, which holders read aloud to each other.
    """
    if current is None:
        return ["the first keyring", *describe(new)]
    lines = [f"keyring v{new.version}, after v{current.version}"]
    if new.format != current.format:
        lines.append(f"  format {current.format} -> {new.format}{_format_meaning(new)}")
    old_auth = {a.key.fingerprint: a.name for a in current.authorities}
    new_auth = {a.key.fingerprint: a.name for a in new.authorities}
    lines += [f"  + authority {fp}  {n}" for fp, n in new_auth.items() if fp not in old_auth]
    lines += [f"  - authority {fp}  {n}" for fp, n in old_auth.items() if fp not in new_auth]
    lines += [
        f"  ~ authority {fp}  name {old_auth[fp]} -> {n}"
        if old_auth[fp] != n
        else f"    authority {fp}  {n}  unchanged"
        for fp, n in new_auth.items()
        if fp in old_auth
    ]
    if new.threshold != current.threshold:
        lines.append(f"  threshold {current.threshold} -> {new.threshold}")
    lines.append(f"  authority signatures: {new.threshold} of {len(new.authorities)}")
    lines += _every_holder(current, new)
    before = {r.id: r for r in current.recipients}
    after = {r.id: r for r in new.recipients}
    for r in new.recipients:
        old = before.get(r.id)
        if old is None:
            lines += _reviewer("+", r)
        elif old != r:
            lines += _changed(old, r)
        else:
            lines.append(f"    reviewer {r.id} ({r.name})  unchanged")
    for r in current.recipients:
        if r.id not in after:
            lines += _reviewer("-", r)
    lines += instance_changes(current, new)
    old_dates = (current.issued, current.expires)
    lines.append(
        f"  valid {new.issued.isoformat()} to {new.expires.isoformat()}"
        f" (was {old_dates[0].isoformat()} to {old_dates[1].isoformat()})"
    )
    lines.append(f"  digest {digest_text(new)}")
    return lines


def _every_holder(current: Manifest, new: Manifest) -> list[str]:
    """Say so when a change makes every holder's signature needed: then any one can block.

    A holder about to be removed could have the others sign it as a safeguard, and
    then refuse the keyring that removes them, or any other, for good.
    """
    changed = (new.threshold, new.authority_fingerprints) != (
        current.threshold,
        current.authority_fingerprints,
    )
    if not changed or len(new.authorities) < 2 or new.threshold < len(new.authorities):
        return []
    return [
        "  WARNING: every holder must sign each later keyring: any one of them can refuse"
        " the keyring that removes them, or any other, for good"
    ]


def _format_meaning(manifest: Manifest) -> str:
    if manifest.seals_to_subkeys:
        return ": FORWARD SECRECY ON, reports are sealed (v2) to weekly subkeys only"
    return ""


def _reviewer(mark: str, r: Recipient) -> list[str]:
    lines = [
        f"  {mark} reviewer {r.id} ({r.name})",
        f"      encryption key {r.encryption_key.fingerprint}",
        f"      signing key    {r.signing_key.fingerprint}",
    ]
    if r.hybrid_key is not None:
        lines.append(f"      hybrid key     {r.hybrid_key.fingerprint}")
    return lines


def _changed(old: Recipient, new: Recipient) -> list[str]:
    lines = [f"  ~ reviewer {new.id} ({new.name})"]
    if old.name != new.name:
        lines.append(f"      name {old.name} -> {new.name}")
    for what, before, after in (
        ("encryption key", old.encryption_key.fingerprint, new.encryption_key.fingerprint),
        ("signing key   ", old.signing_key.fingerprint, new.signing_key.fingerprint),
        ("hybrid key    ", _fp(old.hybrid_key), _fp(new.hybrid_key)),
    ):
        if before == after == "none":
            continue
        if before == after:
            lines.append(f"      {what} {after}  unchanged")
        else:
            lines += [f"      {what} {before}", f"      {'CHANGED TO':>14} {after}"]
    return lines


def _fp(key: HybridPublicKey | None) -> str:
    return str(key.fingerprint) if key is not None else "none"


def instance_changes(current: Manifest | None, new: Manifest) -> list[str]:
    """What `new` says about the instance, onions and keys, where it differs from `current`.

    Against a keyring that lists them, each key and onion added, dropped or swapped is
    marked, as a reviewer's are: listed as they stand, a timestamp key or a server key
    of the drafter's own read as a description, not a change (a colleague about to be
    revoked kept the power to vouch for a superseded keyring, or to sign exports).
    """
    if new.instance is None or new.codename is None or new.timestamp is None:
        return []
    if current is None or current.instance is None or current.codename is None:
        return _instance_listing(new.instance, new.codename, new.timestamp)
    if current.timestamp is None:
        return _instance_listing(new.instance, new.codename, new.timestamp)
    lines = []
    if new.instance != current.instance:
        was = current.instance
        if new.instance.id != was.id:
            lines.append(f"  ~ instance {was.id}")
            lines.append(f"      {'CHANGED TO':>14} {new.instance.id}")
        else:
            lines.append(f"    instance {new.instance.id}  unchanged")
        lines += _marked("onion", was.onions, new.instance.onions)
        old_keys = [str(k.fingerprint) for k in was.server_keys]
        lines += _marked(
            "server key", old_keys, [str(k.fingerprint) for k in new.instance.server_keys]
        )
    if new.codename != current.codename:
        kdf, old_kdf = new.codename.kdf, current.codename.kdf
        lines.append(
            f"  ~ codename KDF argon2id ops {kdf.ops}, memory {kdf.mem // 1024} KiB"
            f" (was ops {old_kdf.ops}, memory {old_kdf.mem // 1024} KiB)"
        )
        if new.codename.salt != current.codename.salt:
            lines.append(
                f"  ~ codename salt {current.codename.salt.hex()} CHANGED TO "
                f"{new.codename.salt.hex()}: no source's codename opens its account after it"
            )
    if new.timestamp != current.timestamp:
        policy, was_policy = new.timestamp, current.timestamp
        if policy.key != was_policy.key:
            lines.append(f"  ~ timestamp key {was_policy.key.fingerprint}")
            lines.append(f"      {'CHANGED TO':>14} {policy.key.fingerprint}")
        if policy.max_days != was_policy.max_days:
            lines.append(f"  ~ timestamp holds {was_policy.max_days} -> {policy.max_days} day(s)")
    return lines


def _instance_listing(
    instance: InstanceListing, codename: CodenameParams, policy: TimestampPolicy
) -> list[str]:
    """A keyring's instance part as it stands (a first keyring, or the first to list it)."""
    kdf = codename.kdf
    return [
        f"  instance {instance.id}",
        *(f"    onion {o}" for o in instance.onions),
        *(f"    server key {k.fingerprint}" for k in instance.server_keys),
        f"  codename KDF argon2id ops {kdf.ops}, memory {kdf.mem // 1024} KiB",
        f"  timestamp key {policy.key.fingerprint}, {policy.max_days} day(s)",
    ]


def _marked(what: str, before: Sequence[str], after: Sequence[str]) -> list[str]:
    """Each of `after` marked added or unchanged, then each of `before` dropped."""
    lines = [
        f"      {what} {item}  unchanged" if item in before else f"    + {what} {item}"
        for item in after
    ]
    return lines + [f"    - {what} {item}" for item in before if item not in after]


def instance_description(data: bytes) -> tuple[InstanceListing, CodenameParams]:
    """Read what `raazdar keyring instance-info` printed: the instance's part of a draft."""
    try:
        obj = parse_json_object(data, max_bytes=DESCRIPTION_MAX_BYTES)
        if obj.get("type") != "raazdar-instance":
            raise CeremonyError("not an instance description (`raazdar keyring instance-info`)")
        return InstanceListing.from_dict(obj["instance"]), CodenameParams.from_dict(obj["codename"])
    except (CryptoError, KeyError) as exc:
        raise CeremonyError(f"not an instance description: {exc}") from exc


def fingerprints(signed: SignedManifest) -> list[Fingerprint]:
    """The authority fingerprints to pin from a first keyring."""
    return [a.key.fingerprint for a in signed.manifest.authorities]


def write_new(path: Path, data: bytes) -> Path:
    """Write a new private file; refuse to overwrite one."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as exc:
        raise CeremonyError(f"{path} already exists", hint="choose another name") from exc
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        discard(path)
        raise
    return path


def replace_file(path: Path, data: bytes) -> None:
    """Write `data` to a temporary file beside `path`, then rename it into place."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    write_new(tmp, data)
    try:
        os.replace(tmp, path)
    except BaseException:
        discard(tmp)
        raise
