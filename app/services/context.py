"""Per-app objects the services need: the store and the keyring cache."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from flask import Flask, current_app

from app.demo import demo_timestamp
from app.instance import InstancePaths
from app.keyring import KeyringCache, KeyringState, fresh_timestamp, timestamp_path, write_replacing
from app.models import today
from app.store import EnvelopeStore
from crypto import CryptoError, Manifest, PublicKey, SignedTimestamp, VerifyKey


@dataclass
class Services:
    """What one app instance shares across requests."""

    paths: InstancePaths
    store: EnvelopeStore
    keyrings: KeyringCache

    def keyring(self) -> KeyringState:
        """The keyring state for today."""
        return self.keyrings.state(today())

    def manifest(self) -> Manifest:
        """The manifest in force, or `KeyringUnavailable`."""
        return self.keyring().require()

    def recipients(self) -> list[PublicKey]:
        """The keys new reports are sealed to, or `KeyringUnavailable` (see `sealing_keys`)."""
        return sealing_keys(self.manifest())

    def reviewer_signing_keys(self) -> frozenset[VerifyKey]:
        """The signing keys of the reviewers in the keyring in force: a revoked one is out."""
        manifest = self.keyring().manifest
        return frozenset(r.signing_key for r in manifest.recipients) if manifest else frozenset()

    def timestamp(self) -> SignedTimestamp | None:
        """The keyring timestamp to serve; a demo instance re-signs its own when it is stale.

        A real instance holds no timestamp key: it serves what the administrators
        installed, stale or not, and the clients judge it.
        """
        state = self.keyring()
        if state.manifest is None or fresh_timestamp(state, today()) is not None:
            return state.timestamp
        with contextlib.suppress(OSError, CryptoError):
            stamp = demo_timestamp(self.paths.demo_keys, state.manifest, today())
            if stamp is not None:
                write_replacing(timestamp_path(self.paths), stamp.to_bytes())
                return stamp
        return state.timestamp


def sealing_keys(manifest: Manifest) -> list[PublicKey]:
    """The keys the server seals a new report and its files to under `manifest`.

    The one place that decides it: the upload hook (`Services.recipients`) and
    the submission service (its report, and its check that the files were
    sealed to the same keys) both ask here.
    """
    return [r.encryption_key for r in manifest.recipients]


def init_app(app: Flask) -> None:
    """Create the store and the keyring cache for this app."""
    paths = InstancePaths(app.config["INSTANCE_DIR"])
    app.extensions["raazdar"] = Services(
        paths=paths,
        store=EnvelopeStore(paths.store, paths.staging),
        keyrings=KeyringCache(paths),
    )


def services() -> Services:
    """Return the current app's services."""
    result: Services = current_app.extensions["raazdar"]
    return result
