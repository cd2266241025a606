"""Forward secrecy for replies, end to end: once the source has read a reply, no copy opens.

A `raazdar-submit` source sends a report; the workstation imports it and
replies, sealed to one of the report's one-time prekeys; the reply bundle is
applied on the server; the client fetches and opens the reply. Then the
adversary takes everything the source has (the device's state directory and
the codename) and every copy of the reply envelope (the server's, the reply
bundle's; the workstation keeps it only wrapped to its workspace key, and its
own copy, unwrapped, is the same bytes): nothing opens it. The same seizure made
before the client opened the reply does open it (the control), so the test
shows that the deletion, not a broken key, is what stops it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from flask import Flask

from app.demo import DEMO_PASSPHRASE
from crypto import (
    DecryptionError,
    HybridPrivateKey,
    PrivateKey,
    check_codename,
    derive_source_keys,
    open_bytes,
)
from review import workspace as ws
from review.workspace import outbox
from tests.app.test_canary import files_under
from tests.review.support import Server, init_workspace, reply_text, review
from tests.submit.support import Device, open_state
from tests.submit.test_reply_delete import reported

REPLY = "Which checkpoint, and on which night? کون سی رات؟"


def _seize(state_dir: Path, codename_file: Path) -> list[PrivateKey | HybridPrivateKey]:
    """Every key the device's state and the codename yield: prekey secrets and codename keys."""
    state = open_state(state_dir, codename_file)
    assert state.codename_salt is not None
    assert state.codename_kdf is not None
    codename = check_codename(codename_file.read_text())
    keys = derive_source_keys(codename, state.codename_salt, state.codename_kdf)
    return [*state.prekeys, keys.private_key]


def _copies(envelope: bytes, *places: Path) -> list[Path]:
    """The files under `places` that hold the envelope byte for byte."""
    return [
        path for place in places for path in files_under(place) if envelope in path.read_bytes()
    ]


def test_a_reply_read_on_the_device_opens_for_no_one_afterwards(
    device: Device, codename_file: Path, app: Flask, instance: Path, tmp_path: Path
) -> None:
    reported(device, codename_file)
    assert len(open_state(device.state, codename_file).prekeys) == 4

    server = Server(app, instance)
    workspace = init_workspace(server, tmp_path / "workspace")
    imported = review(workspace, "import", str(server.export(tmp_path / "export.rzb")))
    assert imported.exit_code == 0, imported.output
    reply_file = tmp_path / "reply.txt"
    reply_file.write_text(REPLY, "utf-8")
    written = review(workspace, "reply", "1", "--file", str(reply_file))
    assert written.exit_code == 0, written.output
    assert "forward-secret (3 such key(s) left)" in written.output
    u = ws.Workspace.open(workspace).unlock("demo-reviewer", lambda _: DEMO_PASSPHRASE)
    try:
        (name,) = u.conn.execute("SELECT envelope FROM replies").fetchone()
        envelope = outbox.envelope(u, name)
    finally:
        u.workspace.close()
    bundle = tmp_path / "replies.rzr"
    assert review(workspace, "export-replies", "--out", str(bundle)).exit_code == 0
    assert server.apply(bundle).replies == 1
    copies = _copies(envelope, instance, bundle.parent)
    assert any(instance in p.parents for p in copies), "no copy on the server"
    assert bundle in copies
    assert not any(workspace in p.parents for p in copies), "a clear copy in the workspace"

    # The control: taken before the source reads it, the device opens the reply.
    before = tmp_path / "seized-before"
    shutil.copytree(device.state, before)
    assert reply_text(envelope, _seize(before, codename_file)).text == REPLY

    read = device.run("replies", "--codename-file", str(codename_file))
    assert read.exit_code == 0, read.output
    assert REPLY in read.stdout
    assert "forward-secret: its one-time key is now deleted" in read.stdout

    # Afterwards: the device, the codename, and every copy of the envelope open nothing.
    seized = _seize(device.state, codename_file)
    assert len(seized) == 3 + 1  # three prekeys left, and the codename's key
    # Every copy holds these very bytes (the bundle among other bytes): none opens.
    assert all(envelope in copy.read_bytes() for copy in copies)
    with pytest.raises(DecryptionError):
        open_bytes(envelope, seized)

    # The device says so when the reply is fetched again, and shows nothing.
    again = device.run("replies", "--codename-file", str(codename_file))
    assert again.exit_code == 0, again.output
    assert "read before here" in again.stdout
    assert REPLY not in again.stdout
