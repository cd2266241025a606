"""A run refused because another runs on the same state leaves that run's files alone.

The refused run cleaned up as a run that kept nothing does: before the running one's first
save (it fetches and checks the keyring over Tor first, a minute on a slow circuit) the
directory held only the salt, the lock and Tor's data, so the refused run overwrote the
salt, removed Tor's data from under it and the lock with it. The running one then saved
its state (an unfinished submission, its reply prekeys) under a salt no longer on the
device: the next run made another, and found nothing of it; and a third run meanwhile
took a new lock file while the first still ran.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from submit.errors import StateError
from submit.state import DEVICE_FILE, LOCK_FILE, opened

CODENAME = "one two three four five six seven eight"
INSTANCE = "http://" + "a" * 56 + ".onion"


def test_a_run_refused_while_another_runs_leaves_its_salt_and_lock_and_it_saves_for_good(
    tmp_path: Path,
) -> None:
    root = tmp_path / "state"
    with opened(root, CODENAME, fast_kdf=True) as state:
        (root / "tor").mkdir()  # `--launch-tor`'s data, in use by the running client
        with (
            pytest.raises(StateError, match="another raazdar-submit is using"),
            opened(root, CODENAME),
        ):
            pass
        assert (root / DEVICE_FILE).is_file(), "the refused run destroyed the running one's salt"
        assert (root / LOCK_FILE).is_file(), "the refused run removed the running one's lock"
        assert (root / "tor").is_dir(), "the refused run removed the running one's Tor data"
        with (
            pytest.raises(StateError, match="another raazdar-submit is using"),
            opened(root, CODENAME),
        ):
            pass
        state.instance = INSTANCE
        state.save()
    with opened(root, CODENAME) as again:
        assert again.instance == INSTANCE, "the running one's state was lost"
