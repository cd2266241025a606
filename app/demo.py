"""Demonstration keys: an authority set and a reviewer, made at `raazdar init --demo`.

Their private keys sit in the instance directory under a published passphrase,
so a demo instance protects nothing. They exist so that one command shows the
whole system working; a real instance is set up with keys made offline.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Final

from crypto import (
    AuthorityKey,
    CodenameParams,
    InstanceListing,
    KdfParams,
    KeyFile,
    KeyPair,
    Manifest,
    Metadata,
    Recipient,
    SignedManifest,
    SignedTimestamp,
    TimestampPolicy,
    make_timestamp,
    seal_bytes,
    subkeys,
)
from crypto.constants import MANIFEST_FORMAT_HYBRID

DEMO_PASSPHRASE: Final = "demo"  # noqa: S105 - published on purpose: demo keys only
DEMO_AUTHORITIES: Final = 3
DEMO_THRESHOLD: Final = 2
DEMO_TIMESTAMP_DAYS: Final = 7
TIMESTAMP_KEY_NAME: Final = "timestamp.key"
# The keyring format a demo instance that lists itself starts with: 3 lists the
# reviewer's X-Wing key and means sealing (v2) to weekly subkeys only
# (docs/PROTOCOL.md §8.9), whose list `raazdar init --demo` installs; 2 seals v1
# to long-term keys.
DEMO_KEYRING_FORMAT: Final[int] = 3
DEMO_REVIEWER: Final = "demo-reviewer"
# With format 3, the demo reviewer's weekly subkeys (crypto.subkeys) are made
# too: the signed public list for the server, and the secrets sealed (envelope
# v2) to the reviewer's long-term X-Wing key for the workstation, in here.
SUBKEYS_DIR: Final = "subkeys"

_README = """\
DEMONSTRATION KEYS - NOT FOR REAL REPORTS

These key files protect nothing: their passphrase is "demo" and they live on the
server. Anyone with this directory can read everything sealed to them. A real
instance is initialised with a keyring manifest signed offline by its authority
key holders, and reviewer keys that never touch the server.
"""


def make_demo_keyring(
    directory: Path,
    today: dt.date,
    *,
    instance: InstanceListing | None = None,
    codename: CodenameParams | None = None,
    kdf: KdfParams = KdfParams.INTERACTIVE,
    keyring_format: int = DEMO_KEYRING_FORMAT,
) -> SignedManifest:
    """Write demo authority, reviewer and timestamp key files; return the signed keyring.

    Given the instance and its codename settings, the keyring lists them (format
    2, or 3 with `keyring_format=3`: the reviewer's X-Wing key too), as a real
    one does, so the end-to-end client accepts the demo; without, it is a
    format-1 keyring, as one made offline before the server exists. The demo
    reviewer's key file holds an X-Wing key either way.
    """
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    (directory / "README.txt").write_text(_README, "utf-8")
    (directory / "README.txt").chmod(0o600)  # as everything in the instance
    authorities = [KeyPair.generate(encryption=False) for _ in range(DEMO_AUTHORITIES)]
    reviewer = KeyPair.generate()
    stamper = KeyPair.generate(encryption=False)
    for i, keys in enumerate(authorities, start=1):
        _write(directory / f"authority-{i}.key", keys, "authority", f"Demo authority {i}", kdf)
    _write(directory / "reviewer.key", reviewer, "reviewer", "Demo reviewer", kdf)
    _write(directory / TIMESTAMP_KEY_NAME, stamper, "timestamp", "Demo timestamp key", kdf)
    assert reviewer.encryption_public is not None  # noqa: S101 - generated above
    assert reviewer.signing_public is not None  # noqa: S101 - generated above
    assert stamper.signing_public is not None  # noqa: S101 - generated above
    manifest = Manifest(
        version=1,
        previous=None,
        issued=today,
        expires=today + dt.timedelta(days=365),
        threshold=DEMO_THRESHOLD,
        authorities=tuple(
            AuthorityKey(f"Demo authority {i}", k.signing.verify_key)
            for i, k in enumerate(authorities, start=1)
            if k.signing is not None
        ),
        recipients=(
            Recipient(
                id=DEMO_REVIEWER,
                name="Demo reviewer",
                encryption_key=reviewer.encryption_public,
                signing_key=reviewer.signing_public,
                hybrid_key=(
                    reviewer.hybrid_public
                    if instance is not None and keyring_format == MANIFEST_FORMAT_HYBRID
                    else None
                ),
            ),
        ),
        instance=instance,
        codename=codename if instance is not None else None,
        timestamp=(
            TimestampPolicy(stamper.signing_public, DEMO_TIMESTAMP_DAYS)
            if instance is not None and codename is not None
            else None
        ),
    )
    if manifest.seals_to_subkeys:
        _write_subkeys(directory / SUBKEYS_DIR, DEMO_REVIEWER, reviewer, today, manifest)
    signed = SignedManifest(manifest)
    # Every holder signs version 1, as `keys authority-init` has them do: a device
    # pinning the fingerprints alone asks that of the manifest its chain starts from.
    for keys in authorities:
        assert keys.signing is not None  # noqa: S101 - generated above
        signed = signed.sign(keys.signing)
    return signed


def demo_timestamp(directory: Path, manifest: Manifest, today: dt.date) -> SignedTimestamp | None:
    """Sign a fresh timestamp with the demo timestamp key, if this is a demo instance."""
    path = directory / TIMESTAMP_KEY_NAME
    if not path.exists():
        return None
    signing = KeyFile.from_bytes(path.read_bytes()).unlock(DEMO_PASSPHRASE).signing
    if signing is None:
        return None
    return make_timestamp(manifest, signing, issued=today, days=DEMO_TIMESTAMP_DAYS)


def subkeys_paths(directory: Path, reviewer: str) -> tuple[Path, Path]:
    """Where a demo reviewer's signed subkey list and sealed subkey secrets are written."""
    folder = directory / SUBKEYS_DIR
    return folder / f"{reviewer}.json", folder / f"{reviewer}.secrets.rze"


def _write_subkeys(
    folder: Path, reviewer: str, keys: KeyPair, today: dt.date, manifest: Manifest
) -> None:
    """Make `SUBKEYS_PERIODS_AHEAD` weeks of subkeys from this one; write the list and secrets.

    The list names `manifest`'s instance and version (docs/PROTOCOL.md §5A.8).
    """
    assert keys.signing is not None  # noqa: S101 - a reviewer key pair
    assert keys.hybrid_public is not None  # noqa: S101 - a reviewer key pair
    secrets = subkeys.generate(subkeys.Period.of(today))
    assert manifest.instance is not None  # noqa: S101 - it seals to subkeys
    public = secrets.public_list(
        keys.signing.verify_key, today, manifest.instance.id, manifest.version
    )
    folder.mkdir(mode=0o700, exist_ok=True)
    listed, sealed = subkeys_paths(folder.parent, reviewer)
    listed.write_bytes(subkeys.sign_subkeys(public, keys.signing).to_bytes())
    sealed.write_bytes(seal_bytes(secrets.to_bytes(), [keys.hybrid_public], _SUBKEYS_METADATA))
    for path in (listed, sealed):
        path.chmod(0o600)


_SUBKEYS_METADATA: Final = Metadata("subkey-secrets")


def _write(path: Path, keys: KeyPair, kind: str, label: str, kdf: KdfParams) -> None:
    data = KeyFile.create(keys, DEMO_PASSPHRASE, kind=kind, label=label, params=kdf).to_bytes()
    path.write_bytes(data)
    path.chmod(0o600)
