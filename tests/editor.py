"""A stub editor for the tests of both tools: it records how it was started, then writes."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time
from pathlib import Path

STUB = """#!{python}
import json, os, sys
draft = sys.argv[-1]
with open({record!r}, "w") as out:
    seen = os.listdir(os.path.dirname(os.path.abspath(draft)))
    json.dump({{"argv": sys.argv, "env": dict(os.environ), "dir": seen, "cwd": os.getcwd()}}, out)
with open(draft, "a") as out:
    out.write("written in the editor")
"""


def stub_editor(tmp_path: Path, name: str) -> tuple[Path, Path]:
    """An executable called `name` that records its argv, environment and directory."""
    record = tmp_path / f"{name}.json"
    path = tmp_path / "bin" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text(STUB.format(python=sys.executable, record=str(record)))
    path.chmod(0o700)
    return path, record


# What a writer types in each real editor: the text, a search for the name in it, a line
# yanked, saved. The text is to hold "Nasreen", the name searched for.
def typed_in(editor: str, text: str) -> tuple[bytes, ...]:
    """The keys that write `text` in `editor`, search "Nasreen" in it, yank a line, save."""
    if editor in ("vim", "nvim"):
        return (f"i{text}\x1b".encode(), b"/Nasreen\r", b'"ayy', b":wq\r")
    return (text.encode(), b"\x17Nasreen\r", b"\x18", b"y", b"\r")


def write_on_pty(leader: int, proc: subprocess.Popen[bytes], editor: str, text: str) -> bytes:
    """Wait for the draft an editor opened on the pty `leader`, type `text` in it as a
    writer would (`typed_in`), and wait for the process to end; what the pty drew."""
    drawn = read_until(leader, proc, b"draft.txt", 60)
    time.sleep(0.5)
    for keys in typed_in(editor, text):
        os.write(leader, keys)
        drawn += read_until(leader, proc, None, 0.5)
    return drawn + read_until(leader, proc, None, 30)


def read_until(
    leader: int, proc: subprocess.Popen[bytes], wanted: bytes | None, seconds: float
) -> bytes:
    """What the pty shows until `wanted` is drawn, the process ends, or the time is up."""
    drawn = b""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and (wanted is None or wanted not in drawn):
        if select.select([leader], [], [], 0.1)[0]:
            try:
                drawn += os.read(leader, 65536)
            except OSError:
                break
        elif proc.poll() is not None:
            break
    return drawn


def assert_home_untouched(home: Path, editor: str, what: str) -> None:
    """Nothing in `home` holds the name written, and nothing is there at all: a file or a
    directory an editor made at its first start dates the first `what` written."""
    kept = [
        str(p.relative_to(home))
        for p in home.rglob("*")
        if p.is_file() and not p.is_symlink() and b"Nasreen" in p.read_bytes()
    ]
    assert kept == [], f"{editor} kept the {what} in the home directory"
    left = sorted(str(p.relative_to(home)) for p in home.rglob("*"))
    assert left == [], f"{editor} left what dates the {what} in the home directory: {left}"
