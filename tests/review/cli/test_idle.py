"""A command left waiting for its reviewer ends, as the terminal UI locks, and keeps the draft."""

from __future__ import annotations

import os
import pty
import select
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import pytest
from click.testing import CliRunner

from app.demo import DEMO_PASSPHRASE
from review import workspace as ws
from review.cli import cli, idle, sensitive
from review.workspace import drafts, held
from review.workspace.erase import destroy_tree
from tests.review.support import Server, all_bytes, review

SECRET = "Inspector Qadir Bux of Thana Kotri sells the girls"
UNSAVED = "; his driver keeps the ledger"

# The reviewer writes and saves, then is led away with the editor open. Told to end
# (SIGTERM), it saves what was not yet saved beside the draft, as nano does (`FILE.save`).
_LEFT_OPEN = """#!{python}
import signal, sys, time
draft = sys.argv[-1]
def saved_on_term(signum, frame):
    with open(draft + ".save", "w") as out:
        out.write({secret!r} + {unsaved!r})
    sys.exit(1)
signal.signal(signal.SIGTERM, saved_on_term)
with open(draft, "w") as out:
    out.write({secret!r})
time.sleep({wait})
"""

# The reviewer comes back: the editor records the text it opened with, and adds a line.
_COMES_BACK = """#!{python}
import sys
draft = sys.argv[-1]
with open(draft) as text:
    opened = text.read()
with open({record!r}, "w") as out:
    out.write(opened)
with open(draft, "a") as out:
    out.write(" -- and the ledger is in his car")
"""

WAIT = 4.0


@pytest.fixture
def filed(server: Server, workspace: Path, tmp_path: Path) -> Path:
    """A workspace holding one report."""
    server.submit("the SHO of Thana Saddar takes a cut")
    assert review(workspace, "import", str(server.export(tmp_path / "e.rzb"))).exit_code == 0
    return workspace


@pytest.fixture
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    """An idle limit of a second, looked at every tenth of one."""
    monkeypatch.setattr(idle, "IDLE_LOCK_SECONDS", 1.0)
    monkeypatch.setattr(idle, "TICK_SECONDS", 0.1)


def _editor(tmp_path: Path, name: str, source: str) -> Path:
    path = tmp_path / "bin" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text(source)
    path.chmod(0o700)
    return path


def test_a_reply_left_open_in_the_editor_ends_the_command_and_keeps_the_draft_sealed(
    filed: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, quick: None
) -> None:
    """The attack: the reviewer is led away from `reply 1` with the editor open. The
    process holding the keys (and the draft, and the report on the screen behind it) waited
    for as long as the editor lived, whoever sat down."""
    left = _editor(
        tmp_path,
        "left-open",
        _LEFT_OPEN.format(python=sys.executable, secret=SECRET, unsaved=UNSAVED, wait=WAIT),
    )
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", str(left))
    started = time.monotonic()
    result = review(filed, "reply", "1")
    waited = time.monotonic() - started
    assert waited < WAIT, (
        f"the command waited {waited:.1f} s in the editor with the keys unlocked, past its "
        f"idle limit of 1 s: {result.output}"
    )
    assert result.exit_code == 1, result.output
    assert "locked after" in result.output, result.output
    assert "draft" in result.output
    assert "`raazdar-review reply 1`" in result.output
    for path, data in all_bytes(filed):
        assert SECRET.encode() not in data, f"the draft is in the clear in {path}"

    record = tmp_path / "opened.txt"
    back = _editor(
        tmp_path,
        "comes-back",
        _COMES_BACK.format(python=sys.executable, record=str(record)),
    )
    monkeypatch.setenv("EDITOR", str(back))
    result = review(filed, "reply", "1")
    assert result.exit_code == 0, result.output
    assert record.read_text() == SECRET + UNSAVED, "the draft left in the editor was lost"
    assert "reply" in result.output
    assert "queued" in result.output
    # Queued, the draft is gone: the next reply starts empty.
    result = review(filed, "reply", "1")
    assert record.read_text() == ""


def _blocking_input(passphrase: str) -> Iterator[BinaryIO]:
    """A stdin that gives the passphrase and then waits, as a person who left does (for
    WAIT seconds, so that a tool without a limit ends the test)."""
    read, write = os.pipe()
    os.write(write, f"{passphrase}\n".encode())
    lock = threading.Lock()
    closed: list[bool] = []

    def close() -> None:
        with lock:
            if not closed:
                closed.append(True)
                os.close(write)

    closer = threading.Timer(WAIT, close)
    closer.start()
    with open(read, "rb") as stream:
        try:
            yield stream
        finally:
            closer.cancel()
            close()


def test_a_prompt_left_unanswered_with_the_keys_unlocked_ends_the_command(
    filed: Path, quick: None
) -> None:
    """The attack: `search` unlocks, then asks for the term; the reviewer is led away.
    The process waited at the prompt for good, holding the keys."""
    for stdin in _blocking_input(DEMO_PASSPHRASE):
        started = time.monotonic()
        result = CliRunner().invoke(cli, ["--workspace", str(filed), "search"], input=stdin)
        waited = time.monotonic() - started
    assert waited < WAIT, f"the prompt held the keys {waited:.1f} s past its idle limit"
    assert result.exit_code == 1, result.output
    assert "locked after" in result.output, result.output


# The reviewer writes a note and saves; the editor ends at once.
_WRITES = """#!{python}
import sys
with open(sys.argv[-1], "w") as out:
    out.write({text!r})
"""


def test_a_note_the_command_then_refuses_is_kept_as_a_draft_and_thrown_away_when_emptied(
    filed: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A note written for a report number that does not exist was lost with the error."""
    monkeypatch.delenv("VISUAL", raising=False)
    writes = _editor(tmp_path, "writes", _WRITES.format(python=sys.executable, text=SECRET))
    monkeypatch.setenv("EDITOR", str(writes))
    result = review(filed, "note", "9")
    assert result.exit_code == 1, result.output
    assert "no report 9" in result.output
    assert "`raazdar-review triage note 9` opens it again" in result.output, result.output
    u = ws.Workspace.open(filed).unlock("demo-reviewer", lambda _label: DEMO_PASSPHRASE)
    try:
        assert drafts.read(u, "triage:note:9") == SECRET
    finally:
        u.workspace.close()
    # Emptied in the editor, the draft goes.
    empties = _editor(tmp_path, "empties", _WRITES.format(python=sys.executable, text=""))
    monkeypatch.setenv("EDITOR", str(empties))
    result = review(filed, "note", "9")
    assert result.exit_code == 1, result.output
    assert "the draft is thrown away" in result.output, result.output
    u = ws.Workspace.open(filed).unlock("demo-reviewer", lambda _label: DEMO_PASSPHRASE)
    try:
        assert drafts.read(u, "triage:note:9") == ""
        assert u.conn.execute("SELECT 1 FROM meta WHERE key = 'drafts'").fetchone() is None
    finally:
        u.workspace.close()


def _drawn(leader: int, until: bytes, seconds: float = 10.0) -> bytes:
    """What a program on a pty draws, read until `until` appears (or `seconds` pass)."""
    drawn = b""
    deadline = time.monotonic() + seconds
    while until not in drawn and time.monotonic() < deadline:
        if select.select([leader], [], [], 0.1)[0]:
            try:
                drawn += os.read(leader, 65536)
            except OSError:  # the program ended
                break
    return drawn


@pytest.mark.skipif(shutil.which("vim") is None, reason="vim is not installed")
def test_vim_told_to_end_at_the_lock_writes_what_was_typed_first(tmp_path: Path) -> None:
    """The attack (on the reviewer's work, not their safety): vim runs without a swap file,
    so the idle lock's SIGTERM ended it with nothing saved of what was typed since the last
    `:w`; a reviewer led away mid-reply lost the reply, and learnt to keep the command open."""
    ram = held.ram_dir()
    scratch = Path(tempfile.mkdtemp(prefix="raazdar-", dir=ram))
    draft = scratch / "draft.txt"
    draft.write_text("")
    leader, follower = pty.openpty()
    env = {**os.environ, "TERM": "xterm", "HOME": str(tmp_path)}  # no vimrc of the tester's
    editing = subprocess.Popen(  # noqa: S603 - vim, found on PATH
        [*sensitive.editor_command("vim"), str(draft)],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env=env,
        start_new_session=True,
    )
    os.close(follower)
    try:
        _drawn(leader, b"draft.txt")
        os.write(leader, b"iThe SHO keeps the ledger")  # typed, never written with :w
        _drawn(leader, b"ledger")
        sensitive._end(editing, scratch)
        assert editing.returncode is not None
        left = sensitive._left_in(scratch, draft)
        assert "The SHO keeps the ledger" in left, (
            "vim told to end at the idle lock lost what was typed since the last :w"
        )
        # Nothing of it beside the draft but the signal to write (no swap, no backup).
        assert sorted(p.name for p in scratch.iterdir()) == [".ending", "draft.txt"]
    finally:
        if editing.poll() is None:
            editing.kill()
            editing.wait()
        os.close(leader)
        destroy_tree(scratch)
