"""A keyring of hybrid reviewers and their weekly subkey lists, for the server's tests.

The demo instance's keyring is format 3 (docs/PROTOCOL.md §8.9) and `init
--demo` installs the demo reviewer's list; these tests take it away
(`without_lists`) to install lists of their own, or none.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner, Result

from app.cli import main
from app.instance import InstancePaths
from app.models import today
from app.subkeys import subkeys_dir
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


def long_term(instance: Path) -> HybridPrivateKey:
    """The demo reviewer's long-term X-Wing key, which the keyring lists (never sealed to)."""
    key = reviewer_keys(instance).hybrid
    assert key is not None
    return key


def without_lists(instance: Path) -> Path:
    """Take the installed subkey lists away, as if none had been installed."""
    shutil.rmtree(subkeys_dir(InstancePaths(instance)))
    return instance


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


def install(
    runner: CliRunner, instance: Path, *lists: SignedSubkeyList, flags: tuple[str, ...] = ()
) -> Result:
    """Run `raazdar keyring subkeys install` (with `flags`) on files holding `lists`."""
    files = []
    for n, signed in enumerate(lists):
        path = instance.parent / f"subkeys-{n}.json"
        path.write_bytes(signed.to_bytes())
        files.append(str(path))
    return runner.invoke(
        main, ["--instance", str(instance), "keyring", "subkeys", "install", *flags, *files]
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
