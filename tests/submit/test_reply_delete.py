"""`raazdar-submit replies --delete`: what the source has read leaves the server.

A reply left on a seized server tells the seizer that a reviewer answered that
account, and when (the day it is listed under). The account page could always
delete a reply; a source who reads with the client could not, so every reply
they read stayed until retention took it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from flask import Flask
from sqlalchemy import select

from app.models import Reply
from app.services.replies import post_reply
from crypto import HybridPrivateKey, PrivateKey, seal_bytes
from crypto.reply import reply_content
from submit.sensitive import on_disk
from tests.app.support import db_session, envelope_files, reply_to, reviewer_keys, source_id
from tests.submit.support import Device, open_state
from tests.submit.test_codenames import _printed_to_file

ASKED = "Which police station, and which night?"
THANKS = "Thank you. We have what we need for now."


def seal_reply(
    app: Flask, instance: Path, codename: str, text: str, to: HybridPrivateKey | PrivateKey
) -> str:
    """A reviewer's reply of format 2 sealed to `to` (a prekey's public half), posted as a
    reply bundle posts it."""
    signer = reviewer_keys(instance).signing
    assert signer is not None
    content, metadata = reply_content(text, dt.datetime.now(dt.UTC).date())
    envelope = seal_bytes(content, [to.public_key], metadata, signer=signer)
    with app.app_context(), db_session(app) as session:
        return post_reply(session, source_id(app, codename), envelope)


def reported(device: Device, codename_file: Path) -> str:
    """The device sends a report under the codename in the file; return the codename."""
    sent = device.run("send", "-m", "The SHO took money.", "--codename-file", str(codename_file))
    assert sent.exit_code == 0, sent.output
    return codename_file.read_text().strip()


def replies_left(app: Flask) -> set[str]:
    """The ids of the replies the server still holds."""
    with db_session(app) as session:
        return set(session.execute(select(Reply.id)).scalars())


def test_replies_delete_takes_every_reply_it_showed_off_the_server(
    device: Device, codename_file: Path, app: Flask, instance: Path
) -> None:
    codename = reported(device, codename_file)
    prekey = open_state(device.state, codename_file).prekeys[0]
    seal_reply(app, instance, codename, ASKED, prekey)
    signer = reviewer_keys(instance).signing
    assert signer is not None
    reply_to(app, codename, THANKS, signer)  # sealed to the codename's key
    # A reply to a one-time key this device never held: nothing here opens it.
    elsewhere = seal_reply(app, instance, codename, "x", HybridPrivateKey.generate())

    read = device.run("replies", "--delete", "--codename-file", str(codename_file))
    assert read.exit_code == 0, read.output
    assert ASKED in read.stdout
    assert THANKS in read.stdout
    assert replies_left(app) == {elsewhere}, (
        "replies the client showed stayed on the server: a seizer learns a reviewer answered"
    )
    assert len(envelope_files(instance)) == 2  # the report, and the reply opened elsewhere
    assert "deleted from the server" in read.stderr


def test_replies_without_delete_leaves_them_on_the_server(
    device: Device, codename_file: Path, app: Flask, instance: Path
) -> None:
    assert device.run("replies", "--codename-file", str(codename_file)).exit_code == 0
    signer = reviewer_keys(instance).signing
    assert signer is not None
    reply_id = reply_to(app, codename_file.read_text().strip(), THANKS, signer)
    read = device.run("replies", "--codename-file", str(codename_file))
    assert read.exit_code == 0, read.output
    assert THANKS in read.stdout
    assert replies_left(app) == {reply_id}
    assert "--delete" in read.stderr


def test_a_reply_read_before_here_is_deleted_by_a_later_run_and_one_never_held_is_kept(
    device: Device, codename_file: Path, app: Flask, instance: Path
) -> None:
    codename = reported(device, codename_file)
    seal_reply(app, instance, codename, ASKED, open_state(device.state, codename_file).prekeys[0])
    elsewhere = seal_reply(app, instance, codename, "x", HybridPrivateKey.generate())
    first = device.run("replies", "--codename-file", str(codename_file))
    assert first.exit_code == 0, first.output
    assert ASKED in first.stdout
    assert "read before here" not in first.stdout, (
        "a reviewer's reply this device never held was called read before here"
    )
    assert "never held" in first.stdout
    assert len(open_state(device.state, codename_file).read) == 1

    again = device.run("replies", "--delete", "--codename-file", str(codename_file))
    assert again.exit_code == 0, again.output
    assert "read before here" in again.stdout
    assert replies_left(app) == {elsewhere}, "a reply read here before stayed on the server"
    # The seized phone's state no longer names it: the server holds it no more.
    assert open_state(device.state, codename_file).read == []


def test_a_seized_phone_keeps_no_trace_of_replies_read_once_the_server_holds_none(
    device: Device, codename_file: Path, app: Flask, instance: Path
) -> None:
    # Taken with its codename, the state said which replies were read here and the day
    # each was listed, for good: the server had long deleted them.
    assert device.run("replies", "--codename-file", str(codename_file)).exit_code == 0
    signer = reviewer_keys(instance).signing
    assert signer is not None
    codename = codename_file.read_text().strip()
    today = dt.datetime.now(dt.UTC).date()
    kept = reply_to(app, codename, THANKS, signer, written=today)
    read = device.run("replies", "--codename-file", str(codename_file))
    assert THANKS in read.stdout, read.output
    # While the server lists it, the day it was first listed is remembered (test_reply_days).
    assert list(open_state(device.state, codename_file).shown.values()) == [str(today)]

    reply_to(app, codename, ASKED, signer, written=today)
    deleted = device.run("replies", "--delete", "--codename-file", str(codename_file))
    assert deleted.exit_code == 0, deleted.output
    assert replies_left(app) == set(), kept
    assert open_state(device.state, codename_file).shown == {}, (
        "the seized state still names replies read here, and their days"
    )


def test_replies_printed_into_a_file_on_a_disk_are_named_before_they_are_fetched(
    device: Device, codename_file: Path, app: Flask, instance: Path, tmp_path: Path
) -> None:
    """A frightened source keeps what the reviewers asked: `replies > replies.txt`. Whoever
    takes the phone reads that file, or its freed blocks after removal: a forward-secret
    reply's key is deleted here, the copy of its text is not. Before: "no word of it"."""
    codename = reported(device, codename_file)
    prekey = open_state(device.state, codename_file).prekeys[0]
    seal_reply(app, instance, codename, ASKED, prekey)
    kept = tmp_path / "replies.txt"
    said = _printed_to_file(
        device.arguments("replies", "--codename-file", str(codename_file)), kept
    )
    assert ASKED in kept.read_text()
    # Where the tests' temporary directory is itself in memory, there is nothing to say.
    warned = f"{kept} is on a disk: the replies' text" in " ".join(said.split())
    assert warned == on_disk(kept), f"no word of it: {said!r}"
    if warned:
        flat = " ".join(said.split())
        assert flat.index("the replies' text") < flat.index("stay on the server"), "told after"


def test_replies_delete_all_takes_every_reply_off_the_server_unread(
    device: Device, codename_file: Path, app: Flask, instance: Path
) -> None:
    # A checkpoint ahead: no time to fetch each reply over tor, and whoever takes the
    # phone and the codename written down reads every reply still on the server.
    codename = reported(device, codename_file)
    prekey = open_state(device.state, codename_file).prekeys[0]
    seal_reply(app, instance, codename, ASKED, prekey)
    signer = reviewer_keys(instance).signing
    assert signer is not None
    reply_to(app, codename, THANKS, signer)
    seal_reply(app, instance, codename, "x", HybridPrivateKey.generate())

    gone = device.run("replies", "--delete-all", "--codename-file", str(codename_file))
    assert gone.exit_code == 0, gone.output
    assert replies_left(app) == set(), "replies stayed on the server for whoever seizes it"
    assert len(envelope_files(instance)) == 1  # the report
    assert ASKED not in gone.stdout
    assert THANKS not in gone.stdout
    assert "3 replies deleted from the server, unread" in gone.stderr
    # Nothing left for the codename to read, here or on the account page.
    again = device.run("replies", "--codename-file", str(codename_file))
    assert again.exit_code == 0, again.output
    assert THANKS not in again.stdout
