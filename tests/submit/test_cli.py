"""The command line: its codename handling, its usage errors and its error format."""

from __future__ import annotations

import json
import re
import stat
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from flask import Flask

from app.services import resumable
from crypto import check_codename
from submit import protocol
from submit.cli import cli
from submit.connection import PROG
from submit.pins import read_pins
from tests.app.support import envelope_files, reply_to, reviewer_keys
from tests.submit.support import Device, Recorder, loopback_server


def test_new_prints_a_codename_made_on_the_device_and_stores_nothing(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--state", str(tmp_path / "state"), "new"])
    assert result.exit_code == 0, result.output
    codename = result.stdout.strip()
    assert check_codename(codename) == codename
    assert len(codename.split()) == 8
    assert "Write it down" in result.stderr
    assert not (tmp_path / "state").exists()
    second = CliRunner().invoke(cli, ["--state", str(tmp_path / "state"), "new"])
    assert second.stdout.strip() != codename


def test_new_says_not_to_copy_the_codename(tmp_path: Path) -> None:
    # The attack: a phone seized after `new`. The source copied the eight words to be
    # safe, and the keyboard's clipboard history (Gboard's, Samsung's) kept them.
    result = CliRunner().invoke(cli, ["--state", str(tmp_path / "state"), "new"])
    assert result.exit_code == 0, result.output
    advice = " ".join(result.stderr.split())
    assert "Do not copy it" in advice, f"nothing said not to copy it: {advice}"
    assert "screenshot" in advice


def test_the_codename_is_prompted_without_echo(
    device: Device, codename_file: Path, instance: Path
) -> None:
    codename = codename_file.read_text().strip()
    result = device.run("send", "-m", "prompted", input=codename + "\n")
    assert result.exit_code == 0, result.output
    assert "Codename" in result.stderr
    assert codename not in result.output
    assert len(envelope_files(instance)) == 1


def test_the_message_can_come_from_stdin(
    device: Device, codename_file: Path, instance: Path
) -> None:
    result = device.run(
        "send", "--message-file", "-", "--codename-file", str(codename_file), input="from stdin\n"
    )
    assert result.exit_code == 0, result.output
    assert "Sent 1 report:" in result.stdout


def test_a_mistyped_codename_is_refused_before_anything_is_sent(
    device: Device, codename_file: Path, recorder: Recorder, tmp_path: Path
) -> None:
    words = codename_file.read_text().split()
    words[-1] = "zebra" if words[-1] != "zebra" else "apple"
    typo = tmp_path / "typo.txt"
    typo.write_text(" ".join(words))
    message = tmp_path / "message.txt"
    message.write_text("hello")
    args = ["--message-file", str(message), "--codename-file", str(typo)]
    result = device.run("send", *args)
    assert result.exit_code == 1
    # Past the warnings that the two files are on a disk, the refusal comes first.
    said = [line for line in result.stderr.splitlines() if ": warning: " not in line]
    assert said[0].startswith("raazdar-submit: error: ")
    assert "raazdar-submit: hint: type the codename as you wrote it down" in result.stderr
    assert recorder.seen == []


@pytest.mark.parametrize(
    "args",
    [
        ["send"],
        ["send", "-m", "a", "--message-file", "x"],
        ["send", "--resume", "-m", "a"],
        ["send", "--resume", "--discard"],
        ["send", "--message-file", "-", "--codename-file", "-"],
        ["--direct", "--launch-tor", "new"],
        ["--tor-config", __file__, "new"],
        ["send", "-m", "a", "does-not-exist.bin"],
        ["nonsense"],
        ["--threshold", "2", "new"],
        ["--threshold", "0", "--authority", "A" * 32, "new"],
    ],
    ids=[
        "nothing",
        "two-messages",
        "resume-with-message",
        "resume-and-discard",
        "two-stdins",
        "direct-and-tor",
        "torrc-without-tor",
        "missing-file",
        "unknown-command",
        "threshold-without-authorities",
        "threshold-zero",
    ],
)
def test_usage_errors_exit_with_status_2(tmp_path: Path, args: list[str]) -> None:
    result = CliRunner().invoke(cli, ["--state", str(tmp_path / "s"), *args])
    assert result.exit_code == 2, result.output


def test_a_pins_file_may_give_the_threshold_once(tmp_path: Path) -> None:
    pins = tmp_path / "pins.txt"
    for text in ("threshold 2\nthreshold 2\n", "threshold two\n", "threshold 0\n"):
        pins.write_text(f"authority {'A' * 32}\n{text}")
        result = CliRunner().invoke(
            cli, ["--state", str(tmp_path / "s"), "--pins-file", str(pins), "new"]
        )
        assert result.exit_code == 2, result.output
        assert "threshold K" in result.output
    pins.write_text(f"authority {'A' * 32}\nthreshold 1\n")
    given = ["--state", str(tmp_path / "s"), "--pins-file", str(pins), "--threshold", "2", "new"]
    assert "different thresholds" in CliRunner().invoke(cli, given).output


@pytest.mark.parametrize(
    "text",
    [
        "subkeys alice 2\nsubkeys alice 3\n",
        "subkeys alice 0\n",
        "subkeys Alice 2\n",
        "subkeys alice\n",
    ],
)
def test_a_pins_file_names_each_reviewers_list_number_once(tmp_path: Path, text: str) -> None:
    pins = tmp_path / "pins.txt"
    pins.write_text(f"authority {'A' * 32}\n{text}")
    result = CliRunner().invoke(
        cli, ["--state", str(tmp_path / "s"), "--pins-file", str(pins), "new"]
    )
    assert result.exit_code == 2, result.output
    assert "subkeys REVIEWER NUMBER" in result.output
    pins.write_text(f"authority {'A' * 32}\nsubkeys bound\nsubkeys alice 2\nsubkeys bilal 7\n")
    assert read_pins(pins).subkey_floors == {"alice": 2, "bilal": 7}


def test_without_direct_only_an_onion_address_is_accepted(
    tmp_path: Path, codename_file: Path, server: str
) -> None:
    device = Device(tmp_path / "other-state", server, transport=["--socks", "127.0.0.1:9"])
    result = device.run("send", "-m", "hello", "--codename-file", str(codename_file))
    assert result.exit_code == 1
    assert "is not an onion address" in result.stderr


def test_a_state_directory_serves_one_instance(
    device: Device, codename_file: Path, server: str
) -> None:
    assert device.run("send", "-m", "one", "--codename-file", str(codename_file)).exit_code == 0
    device.url = server.replace("127.0.0.1", "localhost")
    result = device.run("send", "-m", "two", "--codename-file", str(codename_file))
    assert result.exit_code == 1
    assert "this codename's state here belongs to" in result.stderr


def test_the_instance_is_remembered_and_the_state_kept_private(
    device: Device, codename_file: Path, server: str
) -> None:
    assert device.run("send", "-m", "one", "--codename-file", str(codename_file)).exit_code == 0
    result = CliRunner().invoke(
        cli,
        [
            "--state",
            str(device.state),
            "--fast-kdf",
            "--direct",
            "--insecure-test-kdf",
            "send",
            "-m",
            "two",
            "--codename-file",
            str(codename_file),
        ],
    )
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(device.state.stat().st_mode) == 0o700
    for path in device.state.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_no_instance_at_all_is_an_error_with_a_hint(tmp_path: Path, codename_file: Path) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "--state",
            str(tmp_path / "s"),
            "--fast-kdf",
            "send",
            "-m",
            "a",
            "--codename-file",
            str(codename_file),
        ],
    )
    assert result.exit_code == 1
    assert "raazdar-submit: hint: give the pins from the organisation" in result.stderr


def test_discarding_with_nothing_unfinished_is_an_error(
    tmp_path: Path, codename_file: Path
) -> None:
    args = ["--state", str(tmp_path / "s"), "--fast-kdf", "send", "--discard"]
    result = CliRunner().invoke(cli, [*args, "--codename-file", str(codename_file)])
    assert result.exit_code == 1
    assert "no unfinished upload to discard" in result.stderr


def test_an_unreachable_instance_is_an_error_not_a_traceback(
    tmp_path: Path, codename_file: Path
) -> None:
    device = Device(tmp_path / "s", "http://127.0.0.1:9")
    result = device.run("send", "-m", "a", "--codename-file", str(codename_file))
    assert result.exit_code == 1
    assert "raazdar-submit: error: the connection to the instance failed" in result.stderr
    assert "Traceback" not in result.output


# What a server in the wrong hands would put in front of the source: a terminal escape
# that sets the window title and clears the screen, and bidi overrides that reorder text.
TERMINAL_TRICKS = "\x1b]0;pwned\x07\x1b[2J\u202eevil\u2066x\u2069\u202c"


def hostile(app: Any, answers: dict[str, tuple[str, bytes]]) -> Callable[..., Any]:
    """The app, except that the paths in `answers` get the status and body given there."""

    def serve(environ: dict[str, Any], start_response: Any) -> Any:
        found = answers.get(environ["PATH_INFO"])
        if found is None:
            return app(environ, start_response)
        status, body = found
        start_response(status, [("Content-Length", str(len(body)))])
        return [body]

    return serve


def test_the_servers_words_cannot_drive_the_terminal(
    recorder: Recorder, authorities: list[str], tmp_path: Path
) -> None:
    tricked, plain = "a" * 32, "b" * 32
    listing = {
        "replies": [
            {"id": tricked, "size": len(b"not an envelope"), "day": TERMINAL_TRICKS},
            {"id": plain, "size": len(b"not an envelope"), "day": "2025-01-02"},
        ]
    }
    answers = {
        "/api/v1/replies": ("200 OK", json.dumps(listing).encode()),
        f"/api/v1/replies/{tricked}": ("200 OK", b"not an envelope"),
        f"/api/v1/replies/{plain}": ("200 OK", b"not an envelope"),
    }
    with loopback_server(hostile(recorder, answers)) as url:
        device = Device(tmp_path / "s", url, authorities)
        codename = device.new_codename(tmp_path)
        result = device.run("replies", "--codename-file", str(codename))
    # A listing that is not a date is no reply; the well-formed one is tried, and refused.
    assert "reply 1 (2025-01-02) did not verify" in result.output
    for trick in ("\x1b", "\x07", "\u202e", "\u2066"):
        assert trick not in result.output, f"{trick!r} reached the terminal"


def _keyring_refused(
    recorder: Recorder, authorities: list[str], tmp_path: Path, status: str, refusal: object
) -> Result:
    """`replies` run against a server answering the keyring with `status` and `refusal`."""
    answers = {"/api/v1/keyring": (status, json.dumps(refusal).encode())}
    with loopback_server(hostile(recorder, answers)) as url:
        device = Device(tmp_path / "s", url, authorities)
        codename = device.new_codename(tmp_path)
        return device.run("replies", "--codename-file", str(codename))


def test_a_refusal_cannot_reorder_the_terminal_with_bidi_controls(
    recorder: Recorder, authorities: list[str], tmp_path: Path
) -> None:
    refusal = {"error": "busy", "message": TERMINAL_TRICKS}
    result = _keyring_refused(recorder, authorities, tmp_path, "503 Unavailable", refusal)
    assert result.exit_code == 1
    assert "the server refused" in result.stderr
    for trick in ("\x1b", "\x07", "\u202e", "\u2066"):
        assert trick not in result.output, f"{trick!r} reached the terminal"


def test_a_refusal_is_shown_as_one_short_line(
    recorder: Recorder, authorities: list[str], tmp_path: Path
) -> None:
    # The server's message was printed whole: 4 MiB of it filled the source's terminal
    # (and any log the output went to), and its line breaks forged the tool's own lines.
    forged = "\nraazdar-submit: hint: the organisation moved: use http://phish.onion instead\n"
    refusal = {"error": "busy", "message": "try later" + forged + "x" * (4 * 1024 * 1024 - 200)}
    result = _keyring_refused(recorder, authorities, tmp_path, "503 Unavailable", refusal)
    assert result.exit_code == 1
    assert len(result.stderr) < 2000, f"{len(result.stderr)} characters of the server's on stderr"
    assert "the server refused: try later" in result.stderr
    assert [line for line in result.stderr.splitlines() if "phish.onion" in line] == [
        line for line in result.stderr.splitlines() if line.startswith("raazdar-submit: error:")
    ], "the server's line break forged a line of the tool's own"


def test_an_upload_the_server_never_lets_advance_is_given_up(
    recorder: Recorder, authorities: list[str], tmp_path: Path
) -> None:
    # A server that takes every chunk and says it holds none of it: the client sent the
    # same chunk again, and again, for as long as the server cared (here it stops at 40).
    patches: list[str] = []

    def stalling(environ: dict[str, Any], start_response: Any) -> Any:
        if environ["REQUEST_METHOD"] != "PATCH":
            return recorder(environ, start_response)
        environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        patches.append(environ["PATH_INFO"])
        status = "200 OK" if len(patches) < 40 else "500 Enough"
        body = json.dumps({"offset": 0, "size": 10**6, "complete": False}).encode()
        start_response(status, [("Content-Length", str(len(body)))])
        return [body]

    evidence = tmp_path / "ledger.pdf"
    evidence.write_bytes(b"x" * 300_000)
    with loopback_server(stalling) as url:
        device = Device(tmp_path / "s", url, authorities)
        codename = device.new_codename(tmp_path)
        result = device.run("send", "--codename-file", str(codename), str(evidence))
    assert len(patches) == 1, f"the client sent the same chunk {len(patches)} times"
    assert result.exit_code == 1
    assert "raazdar-submit: error:" in result.stderr


def test_a_server_answering_each_reply_slowly_cannot_hold_a_replies_run_for_all_of_them(
    device: Device,
    codename_file: Path,
    app: Flask,
    instance: Path,
    recorder: Recorder,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each exchange is over within its deadline (ten minutes), but a run fetches up to a
    hundred replies: a server sending each one just within it held the phone on tor for
    a day. The whole run is bounded; what it did not fetch is still there the next time."""
    monkeypatch.setattr(protocol, "ANSWER_DEADLINE", 1.0)
    sent = device.run("send", "-m", "a report", "--codename-file", str(codename_file))
    assert sent.exit_code == 0, sent.output
    codename = codename_file.read_text().strip()
    texts = [f"reply number {n:02d} ends here" for n in range(12)]  # none inside another
    signer = reviewer_keys(instance).signing
    assert signer is not None
    for text in texts:
        reply_to(app, codename, text, signer)
    honest, listed = recorder.app, [0.0]

    def slow(environ: dict[str, Any], start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        if path == "/api/v1/replies":
            listed[0] = time.monotonic()
        body = b"".join(honest(environ, start_response))
        if not re.fullmatch(r"/api/v1/replies/[^/]+", path):
            return [body]
        return _trickled(body, 0.3)  # each answer within its own deadline

    recorder.app = slow
    held = device.run("replies", "--codename-file", str(codename_file))
    took = time.monotonic() - listed[0]
    shown = [text for text in texts if text in held.stdout]
    print(f"\nthe run was held {took:.1f} s, {len(shown)} of {len(texts)} replies shown")
    # Three answers' deadlines (RUN_ANSWERS) from the listing on, and the way out.
    assert took < 4.5, f"the server held the run {took:.1f} s"
    assert held.exit_code == 1
    assert f"{len(texts) - len(shown)} of {len(texts)} reply(ies) not fetched" in held.stderr
    assert "Traceback" not in held.output
    recorder.app = honest
    monkeypatch.setattr(protocol, "ANSWER_DEADLINE", 600.0)  # the next run's, unhurried
    again = device.run("replies", "--codename-file", str(codename_file))
    assert again.exit_code == 0, again.output
    assert all(text in again.stdout for text in texts)


def _trickled(body: bytes, seconds: float) -> Iterator[bytes]:
    """The body in ten pieces over `seconds`."""
    step = -(-len(body) // 10)
    for start in range(0, len(body), step):
        time.sleep(seconds / 10)
        yield body[start : start + step]


def test_a_server_answering_each_exchange_slowly_cannot_hold_a_send_for_all_of_them(
    device: Device,
    codename_file: Path,
    recorder: Recorder,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each exchange is over within its deadline (ten minutes, and a 1 MiB chunk's body at
    the server's slowest rate: 45 minutes), but nothing bounded a send as a whole: a seized
    server answering every challenge, start and chunk just within it, and cutting the
    connection for the client to retry, held a phone on tor for as long as it liked. The
    send is bounded; what was sealed is kept and `--resume` sends it."""
    # Each answer comes 0.7 s within its deadline, so a loaded machine cannot push one past it
    # (nor the account's exchanges past the first two deadlines, which end with another error).
    monkeypatch.setattr(protocol, "ANSWER_DEADLINE", 1.0)
    monkeypatch.setattr(protocol, "SEND_MIN_RATE", 1e7)  # the bytes' time is not what is held
    files = []
    for n in range(4):
        files.append(tmp_path / f"note{n}.txt")
        files[-1].write_text(f"note {n}")
    honest, began = recorder.app, [0.0]

    def slow(environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("PATH_INFO", "") == "/api/v1/keyring":
            began[0] = time.monotonic()
            return honest(environ, start_response)
        body = b"".join(honest(environ, start_response))
        return _trickled(body, 0.6)  # each answer within its own deadline

    recorder.app = slow
    held = device.run(
        "send", "-m", "the names", "--codename-file", str(codename_file), *map(str, files)
    )
    took = time.monotonic() - began[0]
    print(f"\nthe send was held {took:.1f} s")
    # Two answers' deadlines for the whole send, the keyring's and account's exchanges
    # counted in them (unbounded, its 4 files held it 7.6 s).
    assert took < 4.5, f"the server held the send {took:.1f} s"
    assert "the send was stopped at its deadline" in held.stderr
    assert held.exit_code == 1, held.output
    assert "raazdar-submit: hint: run `raazdar-submit send --resume`" in held.stderr
    assert "Traceback" not in held.output
    recorder.app = honest
    monkeypatch.setattr(protocol, "ANSWER_DEADLINE", 600.0)  # the next run's, unhurried
    resumed = device.run("send", "--resume", "--codename-file", str(codename_file))
    assert resumed.exit_code == 0, resumed.output
    assert "Sent 1 report and 4 file(s)" in resumed.output


def test_a_server_answering_the_keyring_and_account_slowly_cannot_add_them_to_a_send(
    device: Device,
    codename_file: Path,
    recorder: Recorder,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The send's deadline began at its first upload: the keyring, the challenge and the
    account before it each had an exchange's own ten minutes, so a seized server answering
    them just within it held a phone on tor half an hour longer than a send may take. The
    whole send, its first request on, is within two answers' deadlines and its bytes."""
    monkeypatch.setattr(protocol, "ANSWER_DEADLINE", 0.5)
    monkeypatch.setattr(protocol, "SEND_MIN_RATE", 1e7)  # the bytes' time is not what is held
    honest, began = recorder.app, [0.0]

    def slow(environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("PATH_INFO", "") == "/api/v1/keyring":
            began[0] = time.monotonic()
        body = b"".join(honest(environ, start_response))
        return _trickled(body, 0.4)  # each answer within its own deadline

    recorder.app = slow
    held = device.run("send", "-m", "the names", "--codename-file", str(codename_file))
    took = time.monotonic() - began[0]
    print(f"\nthe send was held {took:.1f} s")
    # Two answers' deadlines (SEND_ANSWERS) from the keyring's request, and the way out.
    assert took < 1.5, f"the server held the send {took:.1f} s, keyring and account included"
    assert held.exit_code == 1, held.output
    assert "raazdar-submit: error: the instance took too long to answer" in held.stderr
    assert "Traceback" not in held.output


def test_a_send_the_server_refuses_for_now_says_how_to_resume_it(
    device: Device, codename_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A start refused with 503 (the inodes kept for arrivals, a busy database, a full disk:
    what a flood brings on) keeps the sealed report; the source must be told how to send it."""
    room = resumable.make_room
    monkeypatch.setattr(resumable, "make_room", lambda *_args, **_kwargs: False)
    refused = device.run("send", "-m", "the names", "--codename-file", str(codename_file))
    assert refused.exit_code == 1
    assert "try again later" in refused.stderr
    assert "Traceback" not in refused.output
    assert "raazdar-submit: hint: run `raazdar-submit send --resume`" in refused.stderr
    monkeypatch.setattr(resumable, "make_room", room)
    resumed = device.run("send", "--resume", "--codename-file", str(codename_file))
    assert resumed.exit_code == 0, resumed.output
    assert "Sent 1 report" in resumed.output


def test_a_server_refusing_a_used_account_cannot_send_the_source_to_type_the_codename_in_its_page(
    device: Device, codename_file: Path, recorder: Recorder
) -> None:
    sent = device.run("send", "-m", "first", "--codename-file", str(codename_file))
    assert sent.exit_code == 0, sent.output
    # Seized, the server says the account needs a login in the browser, where the page it
    # serves would take the codename itself (the client never sends it).
    refusal = {"error": "conflict", "message": "this account has no signing key yet"}
    recorder.app = hostile(
        recorder.app, {"/api/v1/sources": ("409 Conflict", json.dumps(refusal).encode())}
    )
    result = device.run("replies", "--codename-file", str(codename_file))
    assert result.exit_code == 1, result.output
    assert "log in there once" not in result.stderr, (
        f"the client told a source whose codename it used there before to log in on the "
        f"server's page: {result.stderr.splitlines()[-1]}"
    )
    assert "do not type it into the instance's web page" in result.stderr


def test_a_first_refused_account_is_sent_to_the_browser_only_with_the_risk_named(
    device: Device, codename_file: Path, recorder: Recorder
) -> None:
    refusal = {"error": "conflict", "message": "this account has no signing key yet"}
    recorder.app = hostile(
        recorder.app, {"/api/v1/sources": ("409 Conflict", json.dumps(refusal).encode())}
    )
    result = device.run("replies", "--codename-file", str(codename_file))
    assert result.exit_code == 1, result.output
    assert "only if you made this codename in Tor Browser" in result.stderr
    assert "the server would get your codename" in result.stderr


def test_a_server_sending_the_source_to_its_web_page_is_shown_as_the_servers_word(
    recorder: Recorder, authorities: list[str], tmp_path: Path
) -> None:
    # Seized, the server would have the report typed into its web page, where it reads it.
    lure = "raazdar-submit is retired: send your report in Tor Browser at this address/submit"
    refusal = {"error": "retired", "message": lure}
    result = _keyring_refused(recorder, authorities, tmp_path, "410 Gone", refusal)
    assert result.exit_code == 1
    assert lure in result.stderr
    assert "the server's, not this tool's" in result.stderr, (
        f"the server's lure was shown as the tool's own error, with nothing said of it: "
        f"{result.stderr.splitlines()[-1]}"
    )
    assert "never asks you to use the web page" in result.stderr


def test_a_replies_run_told_busy_says_when_to_run_again(
    device: Device, codename_file: Path, recorder: Recorder
) -> None:
    """A signed request past its circuit's pace is told "busy" (503, Retry-After), as is any
    request while the server's storage or database is failing: `replies` ended with "the
    server answered 503" and nothing said whether to do anything, or what."""
    sent = device.run("send", "-m", "a report", "--codename-file", str(codename_file))
    assert sent.exit_code == 0, sent.output
    honest = recorder.app

    def busy(environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("PATH_INFO", "") != "/api/v1/replies":
            return honest(environ, start_response)
        body = json.dumps({"error": "busy"}).encode()
        start_response(
            "503 Service Unavailable",
            [("Content-Length", str(len(body))), ("Retry-After", "1")],
        )
        return [body]

    recorder.app = busy
    result = device.run("replies", "--codename-file", str(codename_file))
    assert result.exit_code == 1
    hints = [line for line in result.stderr.splitlines() if line.startswith(f"{PROG}: hint:")]
    assert hints, f"no hint after: {result.stderr.strip()}"
    assert "raazdar-submit replies" in hints[0]
