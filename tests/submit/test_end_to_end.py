"""Client → API → export → review → reply → client: plaintext only at the two ends.

The server's request handling is instrumented (every body and header it is
handed is recorded), and the instance's files and rows are searched, to show
that the canary in the report and in the file never reached the server in any
encoding, while the reviewer reads both and the source reads the reply.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import secrets
from pathlib import Path

from flask import Flask

from crypto import Period, check_codename, read_header
from crypto.envelope.version import V2
from tests.app.support import all_rows, demo_subkeys, envelope_files
from tests.app.test_canary import encodings, files_under, find
from tests.review.support import Server, init_workspace, review
from tests.submit.support import Device, Recorder

REPLY = "Which checkpoint was it? کون سی چوکی؟"


def _leaks(data: bytes, needles: dict[str, bytes]) -> list[str]:
    return [name for name, needle in needles.items() if needle in data]


def test_a_report_goes_from_client_to_reviewer_and_the_reply_back_without_the_server_reading_it(
    device: Device,
    codename_file: Path,
    recorder: Recorder,
    app: Flask,
    instance: Path,
    tmp_path: Path,
) -> None:
    canary = f"CANARY-{secrets.token_hex(12)}-راز-{secrets.token_hex(4)}"
    message = f"The SHO at the checkpoint took money. {canary}"
    evidence = bytearray(secrets.token_bytes(300 * 1024))
    for offset in (0, 64 * 1024 - 5, len(evidence) - len(canary.encode())):
        evidence[offset : offset + len(canary.encode())] = canary.encode()
    ledger = tmp_path / "ledger.bin"
    ledger.write_bytes(bytes(evidence))

    sent = device.run(
        "send",
        "--keep-metadata",
        "--message",
        message,
        "--codename-file",
        str(codename_file),
        str(ledger),
    )
    assert sent.exit_code == 0, sent.output
    assert "Sent 1 report and 1 file(s)" in sent.stdout

    # The server was handed ciphertext only: bodies, headers, files, rows.
    needles = encodings(canary.encode())
    patches = [s for s in recorder.seen if s.method == "PATCH"]
    assert patches, "the instrumentation saw no upload"
    stored = envelope_files(instance)
    assert len(stored) == 2
    # Sealed on the device as the demo's keyring of format 3 says: v2, to this week's subkey.
    week = Period.of(dt.datetime.now(dt.UTC).date())
    subkey = demo_subkeys(instance).get(week)
    assert subkey is not None
    for path in stored:
        header = read_header(io.BytesIO(path.read_bytes()))
        assert header.version is V2
        assert [s.key_id for s in header.stanzas] == [subkey.public_key.fingerprint.key_id]
    assert sum(len(p.body) for p in patches) == sum(p.stat().st_size for p in stored)
    for seen in recorder.seen:
        assert _leaks(seen.body, needles) == [], seen.path
        assert _leaks(json.dumps(seen.headers, ensure_ascii=False).encode(), needles) == []
    codename = check_codename(codename_file.read_text())
    for path in files_under(instance):
        assert find(path, needles) == [], path
        assert find(path, {"codename": codename.encode()}) == [], path
    rows = json.dumps(all_rows(app), default=repr, ensure_ascii=False).encode()
    assert _leaks(rows, needles) == []
    # Nor does the device keep anything of it once sent.
    for path in files_under(device.state):
        assert find(path, {**needles, "codename": codename.encode()}) == [], path
    assert not [p for p in device.state.iterdir() if p.suffix == ".pending"]

    # The reviewer reads it all.
    server = Server(app, instance)
    workspace = init_workspace(server, tmp_path / "workspace")
    imported = review(workspace, "import", str(server.export(tmp_path / "export.rzb")))
    assert imported.exit_code == 0, imported.output
    assert "2 item(s) filed, 1 new report(s)" in imported.output
    shown = review(workspace, "show", "1")
    assert shown.exit_code == 0, shown.output
    assert message in shown.output
    assert "ledger.bin" in shown.output
    out = tmp_path / "opened.bin"
    opened = review(workspace, "open", "1", "1", "--out", str(out), "--yes")
    assert opened.exit_code == 0, opened.output
    assert out.read_bytes() == bytes(evidence)

    # The reviewer's reply comes back, and only the source's device opens it.
    reply_file = tmp_path / "reply.txt"
    reply_file.write_text(REPLY, "utf-8")
    assert review(workspace, "reply", "1", "--file", str(reply_file)).exit_code == 0
    replies_bundle = tmp_path / "replies.rzr"
    exported = review(workspace, "export-replies", "--out", str(replies_bundle))
    assert exported.exit_code == 0, exported.output
    summary = server.apply(replies_bundle)
    assert summary.refused == []
    assert summary.replies == 1
    for path in files_under(instance):
        assert find(path, {"reply": REPLY.encode()}) == [], path

    read = device.run("replies", "--codename-file", str(codename_file))
    assert read.exit_code == 0, read.output
    assert REPLY in read.stdout
    assert "reply 1 of 1" in read.stdout
    # Verified against the reviewer keys of the pinned keyring, and named by it.
    assert "from Demo reviewer" in read.stdout


def test_another_codename_sees_no_reply_of_the_first(
    device: Device, codename_file: Path, tmp_path: Path
) -> None:
    assert device.run("send", "-m", "hello", "--codename-file", str(codename_file)).exit_code == 0
    other = tmp_path / "other"
    other.mkdir()
    second = device.new_codename(other)
    read = device.run("replies", "--codename-file", str(second))
    assert read.exit_code == 0, read.output
    assert "No replies yet." in read.stderr
    assert read.stdout == ""
