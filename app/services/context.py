"""Per-app objects the services need: the store and the keyring cache."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app

from app.instance import InstancePaths
from app.keyring import KeyringCache, KeyringState
from app.models import today
from app.store import EnvelopeStore
from crypto import Manifest, PublicKey, VerifyKey


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
        """The keys new reports are sealed to, or `KeyringUnavailable`."""
        return [r.encryption_key for r in self.manifest().recipients]

    def reviewer_signing_keys(self) -> frozenset[VerifyKey]:
        """Every reviewer signing key in the verified chain, past ones included."""
        state = self.keyring()
        return frozenset(r.signing_key for s in state.chain for r in s.manifest.recipients)


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
