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
from tests.review.support import Server, review

_TREE: Final = Path(__file__).parents[3]
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


def test_a_draft_is_not_taken_for_in_memory_where_dev_shm_is_on_a_disk(
    filed: Path, tmp_path: Path
) -> None:
    """The attack: the seizer images the disk of a workstation whose /dev/shm and
    $XDG_RUNTIME_DIR are directories on it; the reviewer was never told the note's draft
    was written there."""
    if not _namespaces():
        pytest.skip("no mount namespaces here (unshare needs CAP_SYS_ADMIN)")
    on_disk = tmp_path / "shm-on-disk"
    run_dir = tmp_path / "run-on-disk"
    temp = tmp_path / "tmp"
    for d in (on_disk, run_dir, temp):
        d.mkdir(mode=0o1777 if d is on_disk else 0o700)
    assert disk.on_disk(on_disk), "the test needs a directory on a disk"
    editor, record = stub_editor(tmp_path, "vim")
    secret = tmp_path / "passphrase"
    secret.write_text(f"{DEMO_PASSPHRASE}\n")
    tool = (sys.executable, "-c", "from review.cli import main; main()")
    args = ("--workspace", str(filed), "--passphrase-file", str(secret), "note", "1")
    env = {
        **os.environ,
        "PYTHONPATH": str(_TREE),
        "EDITOR": str(editor),
        "XDG_RUNTIME_DIR": str(run_dir),
        "TMPDIR": str(temp),
    }
    env.pop("VISUAL", None)
    done = subprocess.run(  # noqa: S603 - our own tool, fixed arguments
        [*_OVER_SHM, _BIND, str(on_disk), *tool, *args],
        env=env,
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    draft = Path(json.loads(record.read_text())["argv"][-1])
    # The paths as the namespaced command saw them: its /dev/shm was `on_disk`.
    for taken in (Path("/dev/shm"), run_dir):
        assert taken not in draft.parents, (
            f"the draft was written to {draft}, on the disk, taken for memory: {done.stderr!r}"
        )
    assert "the draft is on disk" in done.stderr, done.stderr
