"""A reply names the keyring its reviewers hold, so a device sees a fork it was shown.

A server can show one source's device a keyring of its own: a fork of the same
version (signed by authorities rotated out, listing an eavesdropper beside the
real reviewers), or the keyring before one the reviewers have in force (a holder
of the timestamp key stamping it afresh, withholding the successor that revoked
someone). Every signature and stamp the device checks is genuine, and the device
is shown nothing else. The reviewers see the fork in the report (§5.6.2); their
reply now tells the device (reply format 3, docs/PROTOCOL.md §5A.11).
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from flask import Flask

from app.models import Source
from app.services.context import services
from app.services.replies import post_reply
from crypto import Metadata, PublicKey, seal_bytes
from tests.app.support import db_session, reviewer_keys, source_id
from tests.submit.support import Device

# Reply format 3's type, spelled out: the attack was written before the constant.
FORMAT_3 = "text/plain; charset=utf-8; raazdar-reply=3"


def _reply(app: Flask, codename: str, version: int, digest: bytes, text: str) -> None:
    """A genuine reviewer's reply written under keyring `version` of `digest`."""
    signer = reviewer_keys(app.config["INSTANCE_DIR"]).signing
    assert signer is not None
    today = dt.datetime.now(dt.UTC).date().isoformat()
    content = f"written {today}\nkeyring {version} {digest.hex()}\n\n{text}".encode()
    with app.app_context(), db_session(app) as session:
        source = session.get(Source, source_id(app, codename))
        assert source is not None
        to = [PublicKey.from_text(source.public_key)]
        envelope = seal_bytes(content, to, Metadata("reply", FORMAT_3), signer=signer)
        post_reply(session, source.id, envelope)


def test_a_reply_naming_another_keyring_than_the_server_showed_this_device_is_called_out(
    device: Device, codename_file: Path, app: Flask
) -> None:
    sent = device.run("send", "-m", "a report", "--codename-file", str(codename_file))
    assert sent.exit_code == 0, sent.output
    with app.app_context():
        shown = services().manifest()
    codename = codename_file.read_text().strip()
    # The reviewers hold another keyring of the version this device was shown, then a newer one.
    _reply(app, codename, shown.version, os.urandom(32), "We read your report.")
    _reply(app, codename, shown.version + 1, os.urandom(32), "Which police station?")
    run = device.run("replies", "--codename-file", str(codename_file))
    assert run.exit_code == 0, run.output
    assert "We read your report." in run.stdout
    assert run.stdout.count(f"written {dt.datetime.now(dt.UTC).date()}, from") == 2
    said = " ".join(run.stderr.split())
    assert f"its reviewers hold another keyring v{shown.version}" in said, (
        "a reply from reviewers holding another keyring than the server showed this device "
        f"went without a word: {run.stderr!r}"
    )
    assert f"its reviewers wrote it under keyring v{shown.version + 1}" in said
    assert "keyring " + str(shown.version) not in run.stdout  # the line is read, not shown
