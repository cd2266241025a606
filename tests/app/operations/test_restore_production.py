"""A production instance put back from a backup: a keyring with no timestamp key."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from app.instance import InstancePaths
from tests.app.operations.test_restore import _cli, _put_back


def test_a_keyring_with_no_timestamp_key_finishes_a_restore_on_the_operators_word(
    production: Path, runner: CliRunner
) -> None:
    """Nothing vouches for a keyring that names no timestamp key: the purge asks for the
    operator's word that the newest was installed again, and takes it."""
    backup = _cli(runner, production, "backup")
    assert backup.exit_code == 0, backup.stderr
    _put_back(production, backup.stdout_bytes)
    purged = _cli(runner, production, "purge")
    assert purged.exit_code == 1, purged.output
    said = " ".join(purged.output.split())
    assert "names no timestamp key" in said
    assert "--keyring-reinstalled" in said
    assert InstancePaths(production).restored.exists()
    purged = _cli(runner, production, "purge", "--keyring-reinstalled")
    assert purged.exit_code == 0, purged.output
    assert "restore: finished" in purged.output
