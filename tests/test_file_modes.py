"""Everything the server, the workstation and the client write is their user's alone.

The promise (deploy/README.md, docs/review-workstation.md): keys, envelopes,
databases, bundles and decrypted attachments are never readable by another
user of the machine. The tools keep it by creating files 0600 and directories
0700, and by setting their own umask, so it must hold whatever umask they are
started with. This runs the real tools under umask 0, the worst a caller can
give, through a whole exchange (an instance, a source's report sent to gunicorn,
an export, a workspace importing it, a reply bundle going back, a decrypted
attachment), then walks every directory they wrote and lists any file or
directory with a group or other permission bit. The gate enumerates: a new file
anywhere in those trees is checked without being named here.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.demo import DEMO_PASSPHRASE
from tests.app.live import live_server
from tests.app.support import demo_authorities

BIN = Path(sys.executable).parent
HOSTILE_UMASK = 0o000


def tool(*args: str, cwd: Path, stdin: str | None = None) -> str:
    """Run an installed tool under the hostile umask; fail the test if it fails."""
    done = subprocess.run(  # noqa: S603 - our own tools, from this venv
        [str(BIN / args[0]), *args[1:]],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=cwd,
        umask=HOSTILE_UMASK,
    )
    assert done.returncode == 0, f"{args}: {done.stderr}"
    return done.stdout


def walk(root: Path) -> Iterator[Path]:
    """`root` and everything under it, symbolic links not followed."""
    yield root
    if root.is_dir() and not root.is_symlink():
        yield from sorted(root.rglob("*"))


def shared(paths: list[Path]) -> list[str]:
    """Each path another user may read, write or enter, with its mode."""
    return [
        f"{path} {stat.filemode(path.lstat().st_mode)}"
        for root in paths
        for path in walk(root)
        if path.lstat().st_mode & (stat.S_IRWXG | stat.S_IRWXO)
    ]


def test_nothing_written_is_readable_by_other_users(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir(mode=0o700)
    instance, workspace, state = work / "instance", work / "workspace", work / "state"
    passphrases = work / "passphrases"
    passphrases.write_text(f"{DEMO_PASSPHRASE}\n" * 4)
    report = work / "report.txt"
    report.write_text("the SHO took money at the checkpoint")
    evidence = work / "receipt.txt"
    evidence.write_text("a receipt")

    tool("raazdar", "--instance", str(instance), "init", "--demo", "--fast-kdf", cwd=work)
    info = work / "server-info.json"
    tool("raazdar", "--instance", str(instance), "server-info", "--out", str(info), cwd=work)

    # A source sends a report with a file to gunicorn, itself started under umask 0.
    pins = work / "pins.txt"
    previous = os.umask(HOSTILE_UMASK)
    try:
        with live_server(instance, workers=1) as url:
            os.umask(previous)
            fingerprints = [str(k.verify_key.fingerprint) for k in demo_authorities(instance)]
            pins.write_text(f"instance {url}\n" + "".join(f"authority {f}\n" for f in fingerprints))
            device = ["raazdar-submit", "--state", str(state), "--fast-kdf"]
            device += ["--pins-file", str(pins), "--direct", "--insecure-test-kdf"]
            codename = work / "codename.txt"
            codename.write_text(tool(*device, "new", cwd=work))
            tool(
                *device,
                *("send", "--codename-file", str(codename), "--message-file", str(report)),
                str(evidence),
                cwd=work,
            )
    finally:
        os.umask(previous)

    bundle = work / "export.rzb"
    tool("raazdar", "--instance", str(instance), "export", "--out", str(bundle), cwd=work)

    review = ["raazdar-review", "--workspace", str(workspace)]
    review += ["--passphrase-file", str(passphrases)]
    tool(
        *review,
        *("init", "--server-info", str(info), "--reviewer", "demo-reviewer"),
        *("--key-file", str(instance / "demo-keys" / "reviewer.key")),
        cwd=work,
    )
    demo_subkeys = instance / "demo-keys" / "subkeys"
    secrets, listed = (
        demo_subkeys / "demo-reviewer.secrets.rze",
        demo_subkeys / "demo-reviewer.json",
    )
    tool(*review, "keys", "subkeys", "adopt", str(secrets), str(listed), cwd=work)
    subkey_list = work / "subkeys.json"
    tool(*review, "keys", "subkeys", "new", "--out", str(subkey_list), cwd=work)
    tool(*review, "import", str(bundle), cwd=work)
    opened = work / "opened.txt"
    tool(*review, "open", "1", "1", "--out", str(opened), "--yes", cwd=work)
    reply = work / "reply.txt"
    reply.write_text("we have your report")
    tool(*review, "reply", "1", "--file", str(reply), cwd=work)
    replies = work / "replies.rzb"
    tool(*review, "export-replies", "--out", str(replies), cwd=work)
    tool("raazdar", "--instance", str(instance), "import-replies", str(replies), cwd=work)
    tool("raazdar", "--instance", str(instance), "sweep", "--force", cwd=work)

    assert opened.read_text() == "a receipt"
    written = [instance, workspace, state, info, bundle, opened, replies, subkey_list]
    assert all(p.exists() for p in written)
    assert len([p for root in written for p in walk(root)]) > 40
    assert shared(written) == []


def test_the_walk_sees_a_file_another_user_may_read(tmp_path: Path) -> None:
    (tmp_path / "deep").mkdir(mode=0o700)
    leak = tmp_path / "deep" / "leak"
    leak.write_bytes(b"")
    leak.chmod(0o640)
    tmp_path.chmod(0o700)
    assert shared([tmp_path]) == [f"{leak} -rw-r-----"]


@pytest.mark.parametrize("mode", [0o750, 0o701, 0o720])
def test_the_walk_sees_a_directory_another_user_may_use(tmp_path: Path, mode: int) -> None:
    tmp_path.chmod(0o700)
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir").chmod(mode)
    assert shared([tmp_path]) == [f"{tmp_path / 'dir'} {stat.filemode(stat.S_IFDIR | mode)}"]
