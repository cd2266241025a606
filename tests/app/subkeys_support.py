"""A keyring of hybrid reviewers and their weekly subkey lists, for the server's tests.

Until keyring format 3 is in `crypto.manifest` (docs/PROTOCOL.md §8.9), the
demo keyring is made one here as it is loaded: every reviewer gains a
long-term hybrid key, which is all that format 3 adds (`as_format_3`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from app import keyring as app_keyring
from app.cli import main
from app.instance import InstancePaths
from app.keyring import KeyringState
from app.models import today
from app.operations import doctor  # noqa: F401 - imported, so that its checks are bridged too
from crypto import HybridPrivateKey
from crypto import constants as C
from crypto.subkeys import (
    Period,
    SignedSubkeyList,
    SubkeyList,
    SubkeySecrets,
    generate,
    sign_subkeys,
)
from tests.app.support import reviewer_keys


def long_term(index: int) -> HybridPrivateKey:
    """Reviewer `index`'s long-term hybrid key (a fixed seed: the server never holds it)."""
    return HybridPrivateKey(bytes([0x40 + index]) * 32)


def as_format_3(monkeypatch: pytest.MonkeyPatch) -> None:
    """Load every keyring from now on with a long-term hybrid key for each reviewer."""
    load = app_keyring.load_keyring

    def load_hybrid(paths: InstancePaths, today: dt.date) -> KeyringState:
        state = load(paths, today)
        if state.manifest is None:
            return state
        recipients = tuple(
            dataclasses.replace(r, hybrid_key=long_term(i).public_key)
            for i, r in enumerate(state.manifest.recipients)
        )
        manifest = dataclasses.replace(state.manifest, recipients=recipients)
        return dataclasses.replace(state, manifest=manifest)

    # Wherever it was imported by name (the doctor reads the instance directly).
    for module in list(sys.modules.values()):
        if getattr(module, "load_keyring", None) is load:
            monkeypatch.setattr(module, "load_keyring", load_hybrid)


def signed_list(
    instance: Path, first: Period, count: int = 8, secrets: SubkeySecrets | None = None
) -> tuple[SubkeySecrets, SignedSubkeyList]:
    """Secret subkeys of the demo reviewer for `count` weeks from `first`, and their list.

    The secrets are fresh unless `secrets` are given (a workstation's store).
    """
    secrets = secrets or generate(first, C.SUBKEYS_MAX_PERIODS)
    signing = reviewer_keys(instance).signing
    assert signing is not None
    weeks = tuple((p, k.public_key) for p, k in secrets.keys if first <= p < first.after(count))
    listed = SubkeyList(signing.verify_key, min(today(), first.first_day), weeks)
    return secrets, sign_subkeys(listed, signing)


def install(runner: CliRunner, instance: Path, *lists: SignedSubkeyList) -> Result:
    """Run `raazdar keyring subkeys install` on files holding `lists`."""
    files = []
    for n, signed in enumerate(lists):
        path = instance.parent / f"subkeys-{n}.json"
        path.write_bytes(signed.to_bytes())
        files.append(str(path))
    return runner.invoke(
        main, ["--instance", str(instance), "keyring", "subkeys", "install", *files]
    )


def publish(
    runner: CliRunner,
    instance: Path,
    first: Period,
    count: int = 8,
    secrets: SubkeySecrets | None = None,
) -> SubkeySecrets:
    """Sign and install the demo reviewer's list from `first`; return its secrets."""
    secrets, signed = signed_list(instance, first, count, secrets)
    result = install(runner, instance, signed)
    assert result.exit_code == 0, result.output
    return secrets
