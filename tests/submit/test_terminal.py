"""What the client shows on a terminal does not stay in its scrollback.

The attack: a phone taken from the source's hand, unlocked, Termux still open
(its sessions live on in the background until closed). Scrolling back shows
the codename `new` printed, for good (with it, every reply and the account),
and the replies `replies` opened, forward-secret ones included. The terminal
is erased, scrollback included, once the source has read what it showed.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import pytest
from flask import Flask

from app.models import Source
from tests.app.support import (
    db_session,
    demo_authorities,
    install_subkeys,
    install_successor,
    new_reviewer,
    reply_to,
    reviewer_keys,
    source_id,
)
from tests.submit.support import Device, Recorder, camera_photo

_CLIENT: Final = (sys.executable, "-c", "from submit.cli import main; main()")
_TREE: Final = Path(__file__).parents[2]
# Erase the screen and the lines saved above it (xterm's, VTE's, Termux's CSI 3 J).
ERASE_SCROLLBACK: Final = b"\x1b[3J"


def _read_until(fd: int, marker: bytes, seconds: float) -> bytes:
    """What the terminal shows until `marker`, the client is gone, or `seconds` pass."""
    out = b""
    until = time.monotonic() + seconds
    while marker not in out and (left := until - time.monotonic()) > 0:
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            break
        try:
            data = os.read(fd, 4096)
        except OSError:  # EIO: the client's side of the terminal is closed
            break
        if not data:
            break
        out += data
    return out


@contextlib.contextmanager
def _terminal(command: list[str]) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """Run `command` on a terminal of its own: the terminal's other side, and the process."""
    leader, follower = os.openpty()
    proc = subprocess.Popen(  # noqa: S603 - our own client, fixed arguments
        command, stdin=follower, stdout=follower, stderr=follower, cwd=_TREE, close_fds=True
    )
    os.close(follower)
    try:
        yield leader, proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(leader)


def _on_a_terminal(args: list[str], marker: bytes) -> tuple[bytes, bytes]:
    """Run the client on a terminal: what it shows until `marker`, then after an Enter."""
    with _terminal([*_CLIENT, *args]) as (leader, proc):
        shown = _read_until(leader, marker, 60.0)
        os.write(leader, b"\n")
        after = _read_until(leader, b"\x00", 30.0)
        proc.wait(timeout=30)
    return shown, after


def test_a_new_codename_shown_on_a_terminal_is_erased_with_the_scrollback(tmp_path: Path) -> None:
    shown, after = _on_a_terminal(["--state", str(tmp_path / "state"), "new"], b"Enter")
    # Eight words of the EFF list, four of which are hyphened ("t-shirt", "yo-yo").
    assert re.search(rb"^[a-z-]+(?: [a-z-]+){7}\r?$", shown, re.MULTILINE), shown
    assert ERASE_SCROLLBACK in after, (
        f"the codename stays in the terminal's scrollback: {shown[-200:]!r} then {after!r}"
    )


def test_replies_read_on_a_terminal_are_erased_with_the_scrollback(
    device: Device, codename_file: Path, app: Flask, instance: Path
) -> None:
    # A forward-secret reply's key is deleted so that nobody reads it again: its text
    # left in the scrollback of a terminal still open would undo that.
    sent = device.run("send", "-m", "a report", "--codename-file", str(codename_file))
    assert sent.exit_code == 0, sent.output
    signer = reviewer_keys(instance).signing
    assert signer is not None
    reply_to(app, codename_file.read_text().strip(), "Which checkpoint was it?", signer)
    args = device.arguments("replies", "--codename-file", str(codename_file))
    shown, after = _on_a_terminal(args, b"Enter")
    assert b"Which checkpoint was it?" in shown, shown
    assert ERASE_SCROLLBACK in after, (
        f"the reply stays in the terminal's scrollback: {shown[-200:]!r} then {after!r}"
    )


def test_replies_deleted_unread_on_a_terminal_are_counted_then_erased_with_the_scrollback(
    device: Device, codename_file: Path, app: Flask, instance: Path
) -> None:
    # "2 replies deleted" left on the screen of a terminal still open says the reviewers
    # answered this phone's owner twice: what the deletion was for.
    sent = device.run("send", "-m", "a report", "--codename-file", str(codename_file))
    assert sent.exit_code == 0, sent.output
    signer = reviewer_keys(instance).signing
    assert signer is not None
    for text in ("Which checkpoint was it?", "Which night?"):
        reply_to(app, codename_file.read_text().strip(), text, signer)
    args = device.arguments("replies", "--delete-all", "--codename-file", str(codename_file))
    shown, after = _on_a_terminal(args, b"Enter")
    assert b"2 replies deleted from the server" in shown, shown
    assert ERASE_SCROLLBACK in after, (
        f"the count stays in the terminal's scrollback: {shown[-200:]!r} then {after!r}"
    )


def test_a_report_typed_at_the_terminal_is_erased_with_the_scrollback(
    device: Device, codename_file: Path
) -> None:
    # Where no memory-backed directory holds an editor's draft (Termux), the report is
    # typed at the terminal, which echoes it: it stayed in the scrollback once sent.
    termux = (
        "import os, submit.sensitive as s; os.environ.pop('XDG_RUNTIME_DIR', None); "
        "s._RAM_DIRS = ('$XDG_RUNTIME_DIR',); from submit.cli import main; main()"
    )
    args = device.arguments("send", "--codename-file", str(codename_file))
    with _terminal([sys.executable, "-c", termux, *args]) as (leader, proc):
        _read_until(leader, b"Ctrl-D", 60.0)
        os.write(leader, b"The SHO at the border post takes money\n\x04")
        after = _read_until(leader, b"Enter once", 60.0)
        os.write(leader, b"\n")
        assert proc.wait(timeout=60) == 0, after
    typed = after.index(b"takes money")
    assert ERASE_SCROLLBACK in after[typed:], f"the report stays in the scrollback: {after!r}"


def test_pins_shown_on_a_terminal_are_erased_with_the_scrollback(
    device: Device, codename_file: Path
) -> None:
    # The pins name the instance's onion: on the screen of a phone taken unlocked, they
    # say which platform its owner reports to, which the sealed state keeps hidden.
    assert device.run("replies", "--codename-file", str(codename_file)).exit_code == 0
    options = ["--state", str(device.state), "--fast-kdf"]
    shown, after = _on_a_terminal(
        [*options, "pins", "--codename-file", str(codename_file)], b"Enter"
    )
    assert f"instance {device.url}".encode() in shown, shown
    assert ERASE_SCROLLBACK in after, f"the pins stay in the scrollback: {shown[-200:]!r}"


def test_the_names_of_files_sent_from_a_terminal_are_erased_with_the_scrollback(
    device: Device, codename_file: Path, tmp_path: Path
) -> None:
    # The command line typed, and the client's note that each file is still on the
    # device, name the photo among the gallery's that was sent.
    evidence = tmp_path / "IMG_20261201_101522.jpg"
    evidence.write_bytes(camera_photo())
    args = device.arguments("send", "--codename-file", str(codename_file))
    shown, after = _on_a_terminal([*args, "--message-file", "/dev/null", str(evidence)], b"Enter")
    assert b"IMG_20261201_101522.jpg" in shown, shown
    assert b"/dev/null is on a disk" not in shown, "a device file holds nothing to warn of"
    assert ERASE_SCROLLBACK in after, f"the file's name stays in the scrollback: {shown[-300:]!r}"


def test_replies_shown_before_a_server_cuts_the_run_are_erased_with_the_scrollback(
    device: Device, codename_file: Path, app: Flask, instance: Path, recorder: Recorder
) -> None:
    # A seized server serves the first reply, then fails the next: the run ends in an
    # error, and the reply it showed (forward-secret: its key already deleted) stayed.
    sent = device.run("send", "-m", "a report", "--codename-file", str(codename_file))
    assert sent.exit_code == 0, sent.output
    signer = reviewer_keys(instance).signing
    assert signer is not None
    codename = codename_file.read_text().strip()
    reply_to(app, codename, "Which checkpoint was it?", signer)
    reply_to(app, codename, "Which checkpoint was it?", signer)
    fetched: list[str] = []
    served = recorder.app

    def cut_after_one(environ: dict[str, Any], start_response: Any) -> Any:
        if environ["PATH_INFO"].startswith("/api/v1/replies/"):
            fetched.append(environ["PATH_INFO"])
            if len(fetched) > 1:
                start_response("500 Internal Server Error", [("Content-Length", "0")])
                return [b""]
        return served(environ, start_response)

    recorder.app = cut_after_one
    args = device.arguments("replies", "--codename-file", str(codename_file))
    shown, after = _on_a_terminal(args, b"Enter")
    assert b"Which checkpoint was it?" in shown, shown
    assert ERASE_SCROLLBACK in after, (
        f"the reply shown before the run failed stays in the scrollback: {shown[-300:]!r} "
        f"then {after!r}"
    )
    assert b"error:" in after


def test_the_names_of_files_a_failed_send_was_given_are_erased_with_the_scrollback(
    device: Device, codename_file: Path, tmp_path: Path, recorder: Recorder
) -> None:
    # The server refuses the upload for now: the run ends in an error, and the command
    # typed above it still named the photo among the gallery's.
    evidence = tmp_path / "IMG_20261201_101522.jpg"
    evidence.write_bytes(camera_photo())
    served = recorder.app

    def busy(environ: dict[str, Any], start_response: Any) -> Any:
        if environ["PATH_INFO"] == "/api/v1/uploads":
            start_response("503 Service Unavailable", [("Content-Length", "0")])
            return [b""]
        return served(environ, start_response)

    recorder.app = busy
    args = device.arguments("send", "--codename-file", str(codename_file))
    shown, after = _on_a_terminal([*args, "--message-file", "/dev/null", str(evidence)], b"Enter")
    assert b"error:" in shown + after
    assert ERASE_SCROLLBACK in after, (
        f"a failed send left the file's name in the scrollback: {shown[-300:]!r} then {after!r}"
    )


def test_a_report_given_on_the_command_line_is_erased_with_the_scrollback(
    device: Device, codename_file: Path
) -> None:
    # `send -m TEXT` is accepted (with a warning about the shell's history): the command
    # typed, the report's text in it, stayed on the screen of the terminal left open,
    # above "Sent 1 report", which says by itself that its owner is a source.
    args = device.arguments("send", "--codename-file", str(codename_file))
    shown, after = _on_a_terminal([*args, "-m", "The SHO at the border post takes money"], b"Enter")
    assert b"Sent 1 report" in shown, shown
    assert ERASE_SCROLLBACK in after, (
        f"the command typed, the report in it, stays in the scrollback: {shown[-300:]!r}"
    )


def test_keys_nobody_checked_are_trusted_at_the_terminal_only_on_a_yes(
    device: Device, codename_file: Path
) -> None:
    args = device.arguments("replies", "--codename-file", str(codename_file), pin=False)
    shown, after = _on_a_terminal(args, b"pin them?")
    assert b"NO AUTHORITY FINGERPRINTS WERE GIVEN" in shown, shown
    # Enter alone is the default, no.
    assert b"nothing was pinned or sent" in after, after
    assert not device.state_of(codename_file).authorities


def test_a_keyring_pins_without_a_keyring_line_cannot_vouch_for_is_taken_only_on_a_yes(
    device: Device, codename_file: Path, instance: Path
) -> None:
    """Past the first keyring, pins that name none could be meeting a fork by holders
    rotated out (tests/submit/test_trust.py): Enter alone refuses it. (The question is
    asked only of a keyring every pinned authority signed: one fewer signed is refused.)"""
    keys, recipient = new_reviewer()
    install_successor(instance, [recipient], signers=demo_authorities(instance))
    install_subkeys(instance, keys)
    args = device.arguments("replies", "--codename-file", str(codename_file))
    shown, after = _on_a_terminal(args, b"go on?")
    assert b"the pins name no keyring" in shown, shown
    assert b"nothing was pinned or sent" in after, after
    assert device.state_of(codename_file).manifest is None


REPORT = "The SHO at the border post takes money for each family"


def _client_writing_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, then: str
) -> tuple[Path, list[str]]:
    """A memory-backed directory for drafts, and the client's command, whose editor writes
    the report there and then runs `then` (the shell lines that end or kill the client)."""
    ram = tmp_path / "ram"
    ram.mkdir()
    # The mount table the client reads says it is in memory: one on a disk is refused.
    mounts = tmp_path / "mounts"
    mounts.write_text(f"/dev/vda / ext4 rw 0 0\ntmpfs {ram} tmpfs rw 0 0\n")
    editor = tmp_path / "editor.sh"
    editor.write_text(f'printf "{REPORT}" > "$1"\n{then}\n')
    monkeypatch.setenv("VISUAL", f"sh {editor}")
    client = [
        sys.executable,
        "-c",
        f"import pathlib, submit.sensitive as s; s._RAM_DIRS = ({str(ram)!r},); "
        f"s._MOUNTS = pathlib.Path({str(mounts)!r}); from submit.cli import main; main()",
    ]
    return ram, client


def test_a_draft_is_removed_when_the_terminal_is_closed_with_the_editor_open(
    tmp_path: Path, codename_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The attack: the source writes the report in the editor, saves it, and closes the
    # terminal (Termux's "Exit", a window closed, an SSH session dropped): the client gets
    # SIGHUP. It died without removing its draft, and the report's plaintext stayed in
    # memory-backed /dev/shm, readable on the phone taken running, until it restarts.
    ram, client = _client_writing_in(tmp_path, monkeypatch, "kill -HUP $PPID\nsleep 5")
    args = ["--state", str(tmp_path / "state"), "--fast-kdf", "--instance", "http://127.0.0.1:9"]
    args += ["--direct", "send", "--codename-file", str(codename_file)]
    with _terminal([*client, *args]) as (leader, proc):
        shown = _read_until(leader, b"\x00", 20.0)
        proc.wait(timeout=20)
    assert b"Traceback" not in shown
    left = {str(p.relative_to(ram)): p.read_text() for p in ram.rglob("*") if p.is_file()}
    assert left == {}, "the report's draft stayed in memory-backed storage"
    assert list(ram.iterdir()) == []


def test_a_draft_left_by_a_client_killed_outright_is_removed_by_the_next_run(
    tmp_path: Path, codename_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The attack: the client is killed outright with the editor open (SIGKILL: out of
    # memory, a task manager), which no handler sees: the draft stayed in /dev/shm until
    # the device restarted. The next run of the client, whatever it is, removes it.
    ram, client = _client_writing_in(tmp_path, monkeypatch, "kill -KILL $PPID")
    args = ["--state", str(tmp_path / "state"), "--fast-kdf", "--instance", "http://127.0.0.1:9"]
    with _terminal([*client, *args, "--direct", "send", "--codename-file", str(codename_file)]) as (
        leader,
        proc,
    ):
        _read_until(leader, b"\x00", 20.0)
        proc.wait(timeout=20)
    assert any(REPORT in p.read_text() for p in ram.rglob("draft.txt")), "nothing was left"
    # Another run in use meanwhile keeps its own.
    live = ram / "raazdar-live"
    live.mkdir()
    (live / "draft.txt").write_text("another run's draft")
    held = os.open(live / ".held", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(held, fcntl.LOCK_EX)
        subprocess.run([*client, "new"], cwd=_TREE, capture_output=True, timeout=30, check=True)  # noqa: S603
    finally:
        os.close(held)
    left = sorted(str(p.relative_to(ram)) for p in ram.rglob("*"))
    assert left == ["raazdar-live", "raazdar-live/.held", "raazdar-live/draft.txt"], left


def test_a_status_shown_on_a_terminal_with_no_reply_is_erased_with_the_scrollback(
    device: Device, codename_file: Path, app: Flask
) -> None:
    # The attack: the phone taken unlocked after a `replies` that showed no reply's text.
    # Its screen kept "No replies yet." under the status the reviewers set ("needs-info":
    # they want more from whoever holds the phone): only a run that showed a reply erased.
    sent = device.run("send", "-m", "a report", "--codename-file", str(codename_file))
    assert sent.exit_code == 0, sent.output
    with db_session(app) as session:
        row = session.get(Source, source_id(app, codename_file.read_text().strip()))
        assert row is not None
        row.notice = "needs-info"
        session.commit()
    args = device.arguments("replies", "--codename-file", str(codename_file))
    shown, after = _on_a_terminal(args, b"Enter")
    assert b"status: needs-info" in shown, shown
    assert ERASE_SCROLLBACK in after, (
        f"the status stays in the terminal's scrollback: {shown[-200:]!r} then {after!r}"
    )


@pytest.mark.parametrize("command", ["forget", "carry"])
def test_what_forget_and_carry_say_on_a_terminal_is_erased_with_the_scrollback(
    device: Device, codename_file: Path, tmp_path: Path, command: str
) -> None:
    # The attack: the phone taken unlocked at the checkpoint the source forgot the codename
    # for. The screen said "Forgotten: this device keeps nothing for that codename now"
    # (or "Carried: the new codename ..."): that its owner had one, and just hid it.
    assert device.run("replies", "--codename-file", str(codename_file)).exit_code == 0
    args = device.arguments(command, "--codename-file", str(codename_file))
    if command == "carry":
        other = tmp_path / "new"
        other.mkdir()
        args += ["--to-codename-file", str(device.new_codename(other))]
    said = b"Forgotten" if command == "forget" else b"Carried"
    shown, after = _on_a_terminal(args, b"Enter")
    assert said in shown + after, shown + after
    assert ERASE_SCROLLBACK in after, (
        f"what {command} said stays in the terminal's scrollback: {shown[-200:]!r} then {after!r}"
    )


def test_replies_shown_on_a_terminal_with_the_codename_piped_in_are_erased_with_the_scrollback(
    device: Device, codename_file: Path, app: Flask, instance: Path
) -> None:
    # The attack: `raazdar-submit replies --codename-file - < /dev/shm/codename`, as the
    # docs offer scripts, the replies shown on the terminal. With standard input not the
    # terminal, nothing waited and nothing was erased: the reply, a forward-secret one's
    # too, stayed in the scrollback of the terminal left open.
    sent = device.run("send", "-m", "a report", "--codename-file", str(codename_file))
    assert sent.exit_code == 0, sent.output
    signer = reviewer_keys(instance).signing
    assert signer is not None
    reply_to(app, codename_file.read_text().strip(), "Which checkpoint was it?", signer)
    args = device.arguments("replies", "--codename-file", "-")
    # Its own session, the terminal its controlling one (as a shell's child has it).
    client = (
        "import fcntl, termios; fcntl.ioctl(1, termios.TIOCSCTTY, 0); "
        "from submit.cli import main; main()"
    )
    leader, follower = os.openpty()
    proc = subprocess.Popen(  # noqa: S603 - our own client, fixed arguments
        [sys.executable, "-c", client, *args],
        stdin=subprocess.PIPE,
        stdout=follower,
        stderr=follower,
        cwd=_TREE,
        start_new_session=True,
    )
    os.close(follower)
    try:
        assert proc.stdin is not None
        proc.stdin.write(codename_file.read_bytes())
        proc.stdin.close()
        shown = _read_until(leader, b"Enter", 60.0)
        os.write(leader, b"\n")
        after = _read_until(leader, b"\x00", 30.0)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(leader)
    assert b"Which checkpoint was it?" in shown, shown
    assert ERASE_SCROLLBACK in after, (
        f"the reply stays in the terminal's scrollback: {shown[-200:]!r} then {after!r}"
    )


def test_the_path_an_editor_files_among_its_recent_ones_names_no_tool(
    tmp_path: Path, codename_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The attack: read a seized laptop's recent-files lists (GTK's recently-used.xbel, an
    # editor's own history), which keep each file an editor opened, with the time. An
    # editor the client does not know (gedit, kate, VS Code) is started with a warning, and
    # files the draft it opened: `/dev/shm/raazdar-k2j3x9/draft.txt` named the tool.
    recent = tmp_path / "recently-used"
    ram, client = _client_writing_in(tmp_path, monkeypatch, f'echo "$PWD/$1" >> {recent}')
    args = ["--state", str(tmp_path / "state"), "--fast-kdf", "--instance", "http://127.0.0.1:9"]
    args += ["--direct", "send", "--codename-file", str(codename_file)]
    with _terminal([*client, *args]) as (leader, proc):
        _read_until(leader, b"Enter", 30.0)
        os.write(leader, b"\n")
        _read_until(leader, b"\x00", 30.0)
        proc.wait(timeout=30)
    (filed,) = recent.read_text().splitlines()
    assert filed.startswith(f"{ram}/"), filed
    assert "raazdar" not in filed.removeprefix(str(ram)), f"the editor filed {filed}"
    assert list(ram.iterdir()) == []
