"""What `show` and `report view` draw on a terminal stays out of its scrollback."""

from __future__ import annotations

import json
import os
import pty
import select
import shutil
import subprocess
import sys
import time
from contextlib import suppress
from pathlib import Path

import pytest

from review.cli import idle, paging
from review.present import disk
from tests.review.support import Server, kept_in_scrollback, review, start_review

SECRET = "Inspector Qadir Bux of Thana Kotri sells the girls"

# A pager that records how it was started and what it was given, and shows nothing.
_PAGER = """#!{python}
import json, os, sys
text = sys.stdin.read()
with open({record!r}, "w") as out:
    json.dump({{"argv": sys.argv, "env": dict(os.environ), "text": text}}, out)
"""


def _on_a_terminal(
    workspace: Path, cwd: Path, *args: str, answers: tuple[tuple[bytes, bytes], ...] = ()
) -> bytes:
    """Run the tool on a pty of its own; every byte it wrote to the terminal (the keys typed
    echoed with them). `answers`: each prompt to wait for, and the line a reviewer types at it.
    """
    leader, follower = pty.openpty()
    proc: subprocess.Popen[bytes] | None = None
    drawn = b""
    waiting = list(answers)
    try:
        proc = start_review(workspace, *args, cwd=cwd, terminal=follower)
        os.close(follower)
        deadline = time.monotonic() + 60
        while proc.poll() is None and time.monotonic() < deadline:
            if select.select([leader], [], [], 0.2)[0]:
                with suppress(OSError):  # the other end closed
                    drawn += os.read(leader, 65536)
            if waiting and waiting[0][0] in drawn.rpartition(b"\n")[2]:
                os.write(leader, waiting.pop(0)[1] + b"\n")
        with suppress(OSError):
            while select.select([leader], [], [], 0.2)[0]:
                chunk = os.read(leader, 65536)
                if not chunk:
                    break
                drawn += chunk
    finally:
        if proc is not None:
            if proc.poll() is None:
                proc.kill()
            proc.wait(10)
        os.close(leader)
    assert proc.returncode == 0, drawn.decode(errors="replace")
    return drawn


@pytest.fixture
def pager(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """`less` on the PATH is a recorder; the record's path."""
    record = tmp_path / "pager.json"
    path = tmp_path / "bin" / "less"
    path.parent.mkdir()
    path.write_text(_PAGER.format(python=sys.executable, record=str(record)))
    path.chmod(0o700)
    monkeypatch.setenv("PATH", f"{path.parent}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("LESS", "-X")  # a reviewer's own setting: no alternate screen
    monkeypatch.setenv("LESSOPEN", "|cat %s")
    return record


def test_show_on_a_terminal_leaves_the_report_out_of_its_scrollback(
    server: Server, workspace: Path, tmp_path: Path, pager: Path
) -> None:
    """The attack: a reviewer runs `show 1` and walks away, or closes the window later; the
    report's text stays in the terminal's scrollback (and in tmux's history, or a terminal's
    scrollback file) for whoever scrolls up, long after the command ended."""
    server.submit(SECRET)
    assert review(workspace, "import", str(server.export(tmp_path / "e.rzb"))).exit_code == 0
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    drawn = _on_a_terminal(workspace, cwd, "show", "1")
    assert SECRET.encode() not in drawn, (
        "show wrote report 1's text into the terminal, where its scrollback keeps it"
    )
    seen = json.loads(pager.read_text())
    assert SECRET in seen["text"], "the report was not shown at all"
    env = seen["env"]
    assert (env["LESSSECURE"], env["LESSHISTFILE"]) == ("1", "-")
    assert "X" not in env.get("LESS", ""), "the pager may leave its screen in the scrollback"
    assert "LESSOPEN" not in env
    assert drawn.endswith(idle.ERASE_SCREEN.encode()), drawn[-40:]


# Each command that draws what reports say or whom they name (`paging.paged`).
PAGED = (
    ("show", "1"),
    ("report", "view", "1", "note.txt"),
    ("names", "list"),
    ("names", "show", "Qadir Bux"),
    ("links", "show", "1"),
)


def test_what_reports_say_and_whom_they_name_is_paged_on_a_terminal(
    named: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A report's text, an attachment, the names reports give and their links: none is
    drawn into a terminal's scrollback; each is handed to the pager, and nothing else."""
    monkeypatch.setattr(paging, "on_a_terminal", lambda: True, raising=False)
    for args in PAGED:
        paged: list[str] = []
        monkeypatch.setattr(paging, "page", paged.append, raising=False)
        result = review(named, *args)
        assert result.exit_code == 0, result.output
        assert "Qadir" not in result.output, f"`{' '.join(args)}` drew a name into the terminal"
        assert len(paged) == 1, paged
        assert "Qadir" in paged[0]
    # Asked for, the text is drawn in the terminal as before, and nothing is paged.
    paged.clear()
    result = review(named, "show", "--scroll", "1")
    assert result.exit_code == 0, result.output
    assert "Qadir" in result.output
    assert paged == []


@pytest.fixture
def named(server: Server, workspace: Path, tmp_path: Path) -> Path:
    """Two reports naming the same inspector, each with a text attachment naming him too."""
    server.submit(
        f"{SECRET}. Inspector Qadir Bux took the money at the station.",
        [("files", "note.txt", b"Qadir Bux again", "text/plain")],
    )
    server.submit(
        "Inspector Qadir Bux was there again, at the same station.",
        [("files", "note.txt", b"Qadir Bux once more", "text/plain")],
    )
    assert review(workspace, "import", str(server.export(tmp_path / "e.rzb"))).exit_code == 0
    return workspace


# Each command that draws the inbox's rows, the audit log's details or the conflicts declared.
LISTED = (
    ("list",),
    ("list", "--all", "--sort", "day"),
    ("search", "Qadir"),
    ("audit", "show"),
    ("conflicts", "list"),
)


def test_the_inbox_and_what_was_searched_for_are_paged_on_a_terminal(
    named: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The attack: a reviewer runs `list` or `search Qadir` and walks away; the inbox's rows
    (the agency and district each report accuses, its tags, its day) and the term searched
    for stay in the terminal's scrollback, as `show`'s text did, for whoever scrolls up."""
    for step in (
        ("triage", "agency", "1", "Thana Kotri"),
        ("triage", "district", "1", "Jamshoro"),
        ("triage", "tag", "1", "qadir-bux"),
        ("conflicts", "declare", "--district", "Thatta"),
    ):
        assert review(named, *step).exit_code == 0
    monkeypatch.setattr(paging, "on_a_terminal", lambda: True, raising=False)
    said = ("Thana Kotri", "Jamshoro", "qadir-bux", "Thatta", "Qadir")
    for args in LISTED:
        paged: list[str] = []
        monkeypatch.setattr(paging, "page", paged.append, raising=False)
        result = review(named, *args)
        assert result.exit_code == 0, result.output
        drawn = [s for s in said if s in result.output]
        assert not drawn, f"`{' '.join(args)}` drew {drawn} into the terminal's scrollback"
        assert len(paged) == 1, f"`{' '.join(args)}` paged {len(paged)} times"
    assert "Thana Kotri" in paged[0] or "Thatta" in paged[0], paged
    # Asked for, the rows are drawn in the terminal as before, and nothing is paged.
    paged.clear()
    result = review(named, "list", "--scroll")
    assert result.exit_code == 0, result.output
    assert "Thana Kotri" in result.output
    assert paged == []


@pytest.mark.parametrize(
    ("args", "asked", "typed"),
    [
        (("triage", "tag", "1"), b"Tags", "qadir-bux"),
        (("triage", "agency", "1"), b"Agency", "Thana Kotri"),
        (("conflicts", "declare"), b"Agency", "Thana Kotri"),
    ],
)
def test_what_is_typed_at_a_prompt_stays_out_of_the_scrollback(
    filed: Path, tmp_path: Path, args: tuple[str, ...], asked: bytes, typed: str
) -> None:
    """The attack: a reviewer types a tag, an agency or a conflict at a prompt (kept out of
    shell history for that) and the command ends; what was typed (echoed by the terminal)
    and what the command said back stay in the scrollback for whoever scrolls up."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    answers: tuple[tuple[bytes, bytes], ...] = ((asked, typed.encode()),)
    if args[0] == "conflicts":
        answers += ((b"District", b""),)
    drawn = _on_a_terminal(filed, cwd, *args, answers=answers)
    assert typed.encode() in drawn, f"nothing was typed: {drawn!r}"
    assert not kept_in_scrollback(drawn, typed), (
        f"`{' '.join(args)}` left {typed!r} in the terminal's scrollback: {drawn[-300:]!r}"
    )


def test_a_value_given_as_an_argument_is_erased_from_the_screen(
    filed: Path, tmp_path: Path
) -> None:
    """The attack: a reviewer types `triage tag 1 qadir-bux` at the shell (warned that its
    history keeps it); the command line the shell echoed stays in the scrollback too."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    args = ("triage", "tag", "1", "qadir-bux")
    typed = f"$ raazdar-review {' '.join(args)}\r\n".encode()
    drawn = typed + _on_a_terminal(filed, cwd, *args)
    assert not kept_in_scrollback(drawn, "qadir-bux"), (
        f"the command line `{' '.join(args)}` stayed in the terminal's scrollback: {drawn[-300:]!r}"
    )
    assert b"history keeps it" in drawn.rpartition(idle.ERASE_SCREEN.encode())[2], (
        "the warning was erased with the command line"
    )


@pytest.mark.parametrize(
    "args",
    [
        ("triage", "tag", "1", "sho-saddar", "qadir-bux"),
        ("names", "add", "1", "person", "Rashid Mehmood"),
    ],
)
def test_what_was_given_is_not_said_back(filed: Path, args: tuple[str, ...]) -> None:
    """`triage tag 1 qadir-bux` or `names add 1 person NAME` does not draw the tags or the
    name again, where the scrollback would keep them after the command line is erased."""
    result = review(filed, *args)
    assert result.exit_code == 0, result.output
    said = result.output.casefold().split("passphrase for")[-1]
    drawn = [v for v in args[3:] if v.casefold() in said and v != "person"]
    assert not drawn, f"`{args[0]} {args[1]}` drew {drawn} into the terminal: {said}"


@pytest.fixture
def filed(server: Server, workspace: Path, tmp_path: Path) -> Path:
    """A workspace holding one report."""
    server.submit(SECRET)
    assert review(workspace, "import", str(server.export(tmp_path / "e.rzb"))).exit_code == 0
    return workspace


@pytest.mark.parametrize(
    "args",
    [
        ("names", "confirm", "1", "Rashid Mehmood"),
        ("names", "add", "1", "cnic", "Rashid Mehmood"),
        ("triage", "tag", "1", "Rashid@Mehmood" * 3),
    ],
)
def test_a_refusal_does_not_say_back_what_was_given(filed: Path, args: tuple[str, ...]) -> None:
    """The attack: a name or a tag given (or typed at a prompt, on the alternate screen) is
    refused, and the error quotes it ("report 1 names no entity 'Rashid Mehmood'") on the
    normal screen, where the scrollback keeps what the prompt and the erase kept out."""
    result = review(filed, *args)
    assert result.exit_code == 1, result.output
    assert "raazdar-review: error:" in result.output
    assert "unexpected" not in result.output, result.output
    said = result.output.casefold()
    assert "rashid" not in said, f"`{' '.join(args[:2])}`'s error said back what was given: {said}"


def test_an_attachment_written_out_is_not_named_on_the_screen(named: Path, tmp_path: Path) -> None:
    """The attack: `report open 1 1 --out FILE` named the attachment by the file name its
    source gave it ("IMG_Gujrat_SHO.jpg", "note.txt"), in the warning and in what it wrote,
    on the normal screen, where the scrollback keeps it."""
    out = tmp_path / "out.bin"
    result = review(named, "report", "open", "1", "1", "--out", str(out), "--yes")
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"Qadir Bux")
    assert "note.txt" not in result.output, (
        f"`report open` drew the attachment's name into the terminal: {result.output}"
    )
    assert "attachment 1 of report 1" in result.output, result.output


@pytest.mark.skipif(shutil.which("less") is None, reason="less is not installed")
def test_the_reviewers_lesskey_cannot_take_the_pager_off_the_alternate_screen(
    filed: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The attack: `LESS=-X` (draw on the normal screen) is a common setting, and less reads
    it from the reviewer's lesskey file (`~/.config/lesskey`, `#env`) too, which no variable
    that was dropped names: the real less then drew the report's text on the normal screen,
    where a terminal that ignores the erase after (or tmux's history) keeps it."""
    home = tmp_path / "home"
    (home / ".config").mkdir(parents=True)
    (home / ".config" / "lesskey").write_text("#env\nLESS = -X\n")
    (home / ".lesskey").write_text("#env\nLESS = -X\n")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("LESSKEYIN_SYSTEM", str(home / ".lesskey"))
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    drawn = _on_a_terminal(filed, cwd, "show", "1", answers=((b"(END)", b"q"),))
    assert SECRET.encode() in drawn, "the report was not shown at all"
    unerased = drawn.replace(idle.ERASE_SCREEN.encode(), b"")
    assert not kept_in_scrollback(unerased, SECRET), (
        "less drew the report on the normal screen, as the reviewer's lesskey file said"
    )


# A pager that records what its parent, the tool, shows every user of the machine as its
# command line (`ps`, /proc/PID/cmdline) while a report is read.
_PS_PAGER = """#!{python}
import json, os, sys
text = sys.stdin.read()
with open(f"/proc/{{os.getppid()}}/cmdline", "rb") as seen:
    argv = [a.decode() for a in seen.read().split(b"\\0") if a]
with open({record!r}, "w") as out:
    json.dump({{"text": text, "argv": argv}}, out)
"""


def test_a_report_is_read_without_its_number_on_the_command_line(
    server: Server, workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The attack: `show 2` puts 2 in the shell's history and, for as long as the report is
    read, in the command line any user of the machine lists (`ps`): which report was read,
    and when. There was no form without it (`show -` was "'-' is not a valid integer")."""
    server.submit("the first report")
    server.submit(SECRET)
    assert review(workspace, "import", str(server.export(tmp_path / "e.rzb"))).exit_code == 0
    record = tmp_path / "ps.json"
    pager = tmp_path / "bin" / "less"
    pager.parent.mkdir()
    pager.write_text(_PS_PAGER.format(python=sys.executable, record=str(record)))
    pager.chmod(0o700)
    monkeypatch.setenv("PATH", f"{pager.parent}{os.pathsep}{os.environ['PATH']}")
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    _on_a_terminal(workspace, cwd, "show", "2")
    by_number = json.loads(record.read_text())
    assert by_number["argv"][-2:] == ["show", "2"]  # what `ps` shows
    drawn = _on_a_terminal(workspace, cwd, "show", "-", answers=((b"Report number", b"2"),))
    seen = json.loads(record.read_text())
    assert seen["text"] == by_number["text"], "report 2 was not shown"
    assert "Report 2" in seen["text"]
    assert seen["argv"][-2:] == ["show", "-"]
    assert not kept_in_scrollback(drawn, "Report number"), "the question stays in the scrollback"


_APPORT = "|/usr/share/apport/apport -p%p -s%s -c%c -d%d -P%P -u%u -g%g -- %E\n"


def test_a_pager_whose_crash_goes_to_a_crash_reporter_is_warned_of(
    pager: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The attack: `less` holds the text it pages (a report, an attachment read), and is
    dumpable again once exec'd; with apport in kernel.core_pattern, its crash hands that
    memory to a program that keeps crash reports of packaged programs (less is one) in
    /var/crash, whatever core limit it inherited: the report was paged without a word of it,
    as the editor's draft is warned of (tests/review/cli/test_sensitive.py)."""
    pattern = tmp_path / "core_pattern"
    monkeypatch.setattr(disk, "_CORE_PATTERN", pattern)
    pattern.write_text(_APPORT)
    paging.page(SECRET)
    assert json.loads(pager.read_text())["text"] == SECRET
    said = " ".join(capsys.readouterr().err.split())
    assert "a crash of the pager is handed to /usr/share/apport/apport" in said, (
        f"the report was paged by a dumpable less with apport in core_pattern, unwarned: {said!r}"
    )

    pattern.write_text("core\n")  # a core file, which the core limit of 0 the tool sets stops
    paging.page(SECRET)
    assert "crash" not in capsys.readouterr().err
