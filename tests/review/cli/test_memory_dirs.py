"""A draft is kept in memory only where the mount table says so, and warned of elsewhere.

`/dev/shm` and `$XDG_RUNTIME_DIR` are memory (tmpfs) on a usual system, but not on
every one: a chroot or a container without its own `/dev/shm` has a plain directory
there, on the disk, and a `$XDG_RUNTIME_DIR` set by hand may be anywhere. A draft
written there stays on the disk (the freed blocks of a journaling filesystem, a
command killed outright), and the reviewer, told nothing, took it for memory.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Final

import pytest

from app.demo import DEMO_PASSPHRASE
from review.present import disk
from tests.editor import stub_editor
from tests.review import killed
from tests.review.support import Server, review

_TREE: Final = Path(__file__).parents[3]
SECRET: Final = "Inspector Qadir Bux keeps the ledger in his car"
# Run a command in a mount namespace of its own, with a directory on the disk bound over
# /dev/shm: that command's /dev/shm is on the disk, as a chroot's or a container's may be.
_OVER_SHM: Final = ("unshare", "-m", "--propagation", "private", "sh", "-c")
_BIND: Final = 'mount --bind "$0" /dev/shm && exec "$@"'


def _namespaces() -> bool:
    """Whether this machine lets a test bind a directory over /dev/shm in a namespace."""
    if shutil.which("unshare") is None:
        return False
    done = subprocess.run([*_OVER_SHM, _BIND, "/tmp", "true"], capture_output=True, check=False)  # noqa: S603 - fixed arguments
    return done.returncode == 0


@pytest.fixture
def filed(server: Server, workspace: Path, tmp_path: Path) -> Path:
    """A workspace holding one report."""
    server.submit("the SHO of Thana Saddar takes a cut")
    assert review(workspace, "import", str(server.export(tmp_path / "e.rzb"))).exit_code == 0
    return workspace


def _over_shm(tmp_path: Path, workspace: Path, editor: Path, *args: str) -> subprocess.Popen[str]:
    """Start `raazdar-review ARGS` with `editor`, its /dev/shm and $XDG_RUNTIME_DIR on the disk."""
    on_disk, run_dir, temp = (tmp_path / n for n in ("shm-on-disk", "run-on-disk", "tmp"))
    for d in (on_disk, run_dir, temp):
        d.mkdir(mode=0o1777 if d is on_disk else 0o700, exist_ok=True)
    assert disk.on_disk(on_disk), "the test needs a directory on a disk"
    secret = tmp_path / "passphrase"
    secret.write_text(f"{DEMO_PASSPHRASE}\n")
    tool = (sys.executable, "-c", "from review.cli import main; main()")
    given = ("--workspace", str(workspace), "--passphrase-file", str(secret))
    env = {
        **os.environ,
        "PYTHONPATH": str(_TREE),
        "EDITOR": str(editor),
        "XDG_RUNTIME_DIR": str(run_dir),
        "TMPDIR": str(temp),
    }
    env.pop("VISUAL", None)
    return subprocess.Popen(  # noqa: S603 - our own tool, fixed arguments
        [*_OVER_SHM, _BIND, str(on_disk), *tool, *given, *args],
        env=env,
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_a_draft_is_not_taken_for_in_memory_where_dev_shm_is_on_a_disk(
    filed: Path, tmp_path: Path
) -> None:
    """The attack: the seizer images the disk of a workstation whose /dev/shm and
    $XDG_RUNTIME_DIR are directories on it; the reviewer was never told the note's draft
    was written there."""
    if not _namespaces():
        pytest.skip("no mount namespaces here (unshare needs CAP_SYS_ADMIN)")
    editor, record = stub_editor(tmp_path, "vim")
    proc = _over_shm(tmp_path, filed, editor, "note", "1")
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stderr
    draft = Path(json.loads(record.read_text())["argv"][-1])
    # The paths as the namespaced command saw them: its /dev/shm was `on_disk`.
    for taken in (Path("/dev/shm"), tmp_path / "run-on-disk"):
        assert taken not in draft.parents, (
            f"the draft was written to {draft}, on the disk, taken for memory: {stderr!r}"
        )
    assert "the draft is on disk" in stderr, stderr


def test_a_draft_on_the_disk_left_by_a_command_killed_outright_is_destroyed_by_the_next(
    filed: Path, tmp_path: Path
) -> None:
    """The attack: with nowhere in memory, the draft is in the temporary directory, on the
    disk; the command is killed outright with the editor open, and the sweep of what killed
    commands left looked in memory only: the draft stayed on the disk for good."""
    if not _namespaces():
        pytest.skip("no mount namespaces here (unshare needs CAP_SYS_ADMIN)")
    editor, record = killed.editor(tmp_path, SECRET)
    draft = killed.kill_at_editor(_over_shm(tmp_path, filed, editor, "note", "1"), record, 60)
    assert draft.is_relative_to(tmp_path / "tmp"), draft  # where no memory was found
    assert draft.read_text() == SECRET  # left on the disk by the killed command

    listing = _over_shm(tmp_path, filed, editor, "list")
    _, stderr = listing.communicate(timeout=120)
    assert listing.returncode == 0, stderr
    assert not draft.parent.exists(), (
        "the draft of a command killed outright stayed in the temporary directory, on the disk"
    )
