"""Creating an instance: directories, keys, database schema and seed data, keyring."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from app.db import make_engine
from app.demo import (
    DEMO_KEYRING_FORMAT,
    DEMO_REVIEWER,
    demo_timestamp,
    make_demo_keyring,
    subkeys_paths,
)
from app.errors import InstanceError
from app.instance import InstancePaths, create_layout, write_private
from app.keyring import pin_authorities, timestamp_path
from app.migrate import upgrade
from app.models import today
from app.operations.rotation import check_listing, instance_listing, make_source_onion
from app.settings import seed
from app.subkeys import install_lists
from crypto import CodenameParams, KdfParams, Manifest, SignedManifest
from crypto.manifest import format_digest


@dataclass(frozen=True)
class Initialised:
    """What `initialise` did, for the CLI to report."""

    version: int
    expires: str
    pinned: list[str]
    # The `keyring VERSION DIGEST` line of a source's pins, for the keyring in force.
    keyring_pin: str


def initialise(
    root: Path,
    *,
    signed: SignedManifest | None,
    database_url: str | None,
    kdf: KdfParams,
    demo: bool,
    keyring_format: int = DEMO_KEYRING_FORMAT,
) -> Initialised:
    """Create a complete instance in `root`; on failure remove what was created.

    Without `signed`, demo keys and a keyring of `keyring_format` (3: sealing to
    the demo reviewer's weekly subkeys, whose list is installed here) are made.
    """
    paths = InstancePaths(root)
    if paths.config.exists():
        raise InstanceError(f"an instance already exists in {root}")
    existed = root.exists()
    if existed and any(root.iterdir()):
        raise InstanceError(f"{root} is not empty: choose a new or empty directory")
    try:
        config = create_layout(
            paths,
            mode="demo" if demo else ("testing" if kdf.is_testing else "production"),
            database_url=database_url,
            kdf=kdf,
        )
        # Made now, not by tor at the first `serve`, so a keyring can list its address.
        make_source_onion(paths)
        made_demo = signed is None
        if signed is None:
            signed = make_demo_keyring(
                paths.demo_keys,
                today(),
                instance=instance_listing(paths, config),
                codename=CodenameParams(config.salt, config.kdf),
                kdf=KdfParams.TESTING if kdf.is_testing else kdf,
                keyring_format=keyring_format,
            )
        check_listing(signed.manifest, paths, config)
        pin_authorities(paths, signed, today())
        if made_demo and signed.manifest.seals_to_subkeys:
            _install_demo_subkeys(paths, signed.manifest)
        stamp = demo_timestamp(paths.demo_keys, signed.manifest, today()) if demo else None
        if stamp is not None:
            write_private(timestamp_path(paths), stamp.to_bytes())
        url = config.database_url_in(paths.root)
        if url == f"sqlite:///{paths.database}":
            # Created here, private, so SQLite (and its -wal and -shm files, which
            # copy its mode) never depend on the caller's umask.
            write_private(paths.database, b"")
        upgrade(url)
        engine = make_engine(url)
        with Session(engine) as session:
            seed(session)
            session.commit()
        engine.dispose()
    except BaseException:
        if existed:
            for child in root.iterdir():
                if child.is_dir():
                    shutil.rmtree(child)
                else:
                    child.unlink()
        else:
            shutil.rmtree(root, ignore_errors=True)
        raise
    manifest = signed.manifest
    return Initialised(
        version=manifest.version,
        expires=manifest.expires.isoformat(),
        pinned=sorted(str(a.key.fingerprint) for a in manifest.authorities),
        keyring_pin=f"keyring {manifest.version} {format_digest(manifest.digest())}",
    )


def _install_demo_subkeys(paths: InstancePaths, manifest: Manifest) -> None:
    """Install the demo reviewer's signed weekly subkey list, as `keyring subkeys install` does."""
    listed, _ = subkeys_paths(paths.demo_keys, DEMO_REVIEWER)
    install_lists(paths, [listed.read_bytes()], manifest, today())
