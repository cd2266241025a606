"""A reply sealed to a one-time key a wiped device no longer holds is named to its reviewers.

A `raazdar-submit` source's phone is wiped (or its state put back from a copy
made before the report): the secrets of the report's one-time reply prekeys
are gone. A reviewer's reply sealed to one reaches the server and is listed to
the source, and nothing opens it. Before, the device said "never held" and
left it there, and the workstation, which cannot know, took it as delivered:
the reviewers' question or warning was lost without a word to anyone, and
their next replies went to the same lost keys.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from sqlalchemy import select

from app.models import Reply
from app.services.context import services
from app.services.replies import delete_own_reply, post_reply
from crypto import HybridPrivateKey, SigningKey, read_header
from crypto.binding import UnheldPrekey
from crypto.constants import REPLY_PREKEYS
from crypto.encoding import canonical_json
from tests.app.support import db_session, source_id
from tests.review.support import Server, init_workspace, review
from tests.submit.support import Device, open_state
from tests.submit.test_reply_delete import ASKED, reported, seal_reply


def _wipe_prekeys(device: Device, codename_file: Path) -> None:
    """The device's state loses every prekey secret, as a wiped phone set up again does."""
    state = open_state(device.state, codename_file)
    state.prekeys = []
    state.save()


def _forge_statement(app: Flask) -> None:
    """Write, as whoever holds the server's database could, a statement signed by another key."""
    with app.app_context(), db_session(app) as session:
        (reply,) = session.execute(select(Reply)).scalars()
        with services().store.open(reply.id) as stream:
            (stanza,) = read_header(stream).stanzas
        statement = UnheldPrekey.make(stanza.key_id, SigningKey.generate())
        reply.unheld = canonical_json(statement.to_json()).decode("ascii")
        session.commit()


def test_a_reply_the_wiped_device_cannot_open_is_named_to_the_reviewers(
    device: Device, codename_file: Path, app: Flask, instance: Path, tmp_path: Path
) -> None:
    reported(device, codename_file)
    server = Server(app, instance)
    workspace = init_workspace(server, tmp_path / "workspace")
    assert review(workspace, "import", str(server.export(tmp_path / "e1.rzb"))).exit_code == 0
    (tmp_path / "reply.txt").write_text("Which checkpoint, and on which night?")
    assert review(workspace, "reply", "1", "--file", str(tmp_path / "reply.txt")).exit_code == 0
    bundle = tmp_path / "replies.rzr"
    assert review(workspace, "export-replies", "--out", str(bundle)).exit_code == 0
    assert server.apply(bundle).replies == 1

    # A server in the wrong hands says it for the source, to be rid of the reply's
    # forward secrecy: it cannot sign with the source's key, and is named for it.
    _forge_statement(app)
    forged = review(workspace, "import", str(server.export(tmp_path / "forged.rzb")))
    assert forged.exit_code == 0, forged.output
    assert "not signed by the key that gave that one-time key" in forged.output
    assert "their device cannot open" not in forged.output

    _wipe_prekeys(device, codename_file)
    read = device.run("replies", "--codename-file", str(codename_file))
    assert read.exit_code == 0, read.output
    assert "never held" in read.stdout

    imported = review(workspace, "import", str(server.export(tmp_path / "e2.rzb")))
    assert imported.exit_code == 0, imported.output
    assert "report 1's source says, signed with their key, that their device cannot open" in (
        imported.output
    ), f"the reviewers were not told their reply will never be read: {imported.output}"
    # The keys lost with it are not used again: the next reply is refused as not
    # forward-secret rather than sealed, in silence, to a key the device lost.
    again = review(workspace, "reply", "1", "--file", str(tmp_path / "reply.txt"))
    assert again.exit_code != 0
    assert "NOT forward-secret" in again.output


def _drop(app: Flask) -> bytes:
    """A server in the wrong hands leaves the one reply it holds out of a listing; its bytes."""
    with app.app_context(), db_session(app) as session:
        (reply,) = session.execute(select(Reply)).scalars()
        with services().store.open(reply.id) as stream:
            envelope = stream.read()
        assert delete_own_reply(session, reply.source_id, reply.id)
    return envelope


def test_a_read_reply_left_out_of_one_listing_is_never_said_to_be_unheld(
    device: Device, codename_file: Path, app: Flask, instance: Path
) -> None:
    # The state kept the key id of a reply read here only while the server listed it:
    # left out of one listing and listed again, the reply was "never held", and the
    # device signed, for its reviewers, that it cannot open a reply it had read. They
    # took it for lost and retired the source's older one-time keys.
    codename = reported(device, codename_file)
    seal_reply(app, instance, codename, ASKED, open_state(device.state, codename_file).prekeys[0])
    read = device.run("replies", "--codename-file", str(codename_file))
    assert ASKED in read.stdout, read.output

    envelope = _drop(app)
    empty = device.run("replies", "--codename-file", str(codename_file))
    assert empty.exit_code == 0, empty.output
    with app.app_context(), db_session(app) as session:
        post_reply(session, source_id(app, codename), envelope)

    again = device.run("replies", "--codename-file", str(codename_file))
    assert again.exit_code == 0, again.output
    with db_session(app) as session:
        statements = [r.unheld for r in session.execute(select(Reply)).scalars()]
    assert statements == [None], "the device signed that it cannot open a reply it read here"
    assert "never held" not in again.stdout
    assert "read before here" in again.stdout
    # The source is told the server left it out and listed it again.
    assert "stopped listing it and lists it again" in again.stdout


def test_a_flood_of_replies_the_device_cannot_open_gets_a_few_statements_a_run(
    device: Device, codename_file: Path, app: Flask, instance: Path
) -> None:
    # A server in the wrong hands lists, to one source, reviewers' replies to other
    # sources' one-time keys (it holds them all): the device signed and posted a statement
    # for each, up to a hundred a run, every one over another source's key.
    codename = reported(device, codename_file)
    for n in range(REPLY_PREKEYS + 2):
        seal_reply(app, instance, codename, f"to another source {n}", HybridPrivateKey.generate())
    read = device.run("replies", "--codename-file", str(codename_file))
    assert read.exit_code == 0, read.output
    with db_session(app) as session:
        told = [r for r in session.execute(select(Reply.unheld)).scalars() if r is not None]
    assert len(told) <= REPLY_PREKEYS, f"the device signed {len(told)} statements in one run"
    assert "the reviewers are told on a later run" in read.stdout


def test_a_state_that_does_not_know_every_key_it_deleted_signs_nothing(
    device: Device, codename_file: Path, app: Flask, instance: Path
) -> None:
    # A state kept by a version that forgot the keys it deleted (format 7 and before)
    # read a reply; the server listed it again once that was forgotten. The device cannot
    # tell it from a reply to a key it never held: it says so, and signs nothing.
    codename = reported(device, codename_file)
    seal_reply(app, instance, codename, ASKED, open_state(device.state, codename_file).prekeys[0])
    assert ASKED in device.run("replies", "--codename-file", str(codename_file)).stdout
    state = open_state(device.state, codename_file)
    state.read, state.deleted, state.deleted_all = [], [], False
    state.save()

    again = device.run("replies", "--codename-file", str(codename_file))
    assert again.exit_code == 0, again.output
    with db_session(app) as session:
        assert list(session.execute(select(Reply.unheld)).scalars()) == [None]
    assert "never held" in again.stdout
    assert "the reviewers are not told" in again.stdout
