"""A reply's day is the server's word: a seized server may not pass an old one off as new.

A reply sealed to the codename's key (every reply to a browser source, and to a
`raazdar-submit` source whose one-time keys ran out) opens at every run. The
signature covers its text, not the day the server lists it under, so a seized
server could list a reviewer's old "meet our investigator at the court gate on
Friday" again under today's day, or twice, for the source to read as a new
request. The device remembers, sealed, the day it first showed each one.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import select

from app.models import Reply, Source
from app.services.context import services
from app.services.replies import post_reply
from crypto import Metadata, PublicKey, seal_bytes
from crypto.constants import REPLY_TYPE
from submit.cli import cli
from tests.app.support import db_session, reply_to, reviewer_keys, source_id
from tests.review.support import Server, init_workspace, review
from tests.submit.support import Device

ASK = "Can you meet our investigator at the district court gate on Friday at ten?"
OLD_DAY = dt.date(2026, 11, 2)


def _first_reply(device: Device, codename_file: Path, app: Flask, instance: Path) -> str:
    """A report, and the reviewer's genuine reply to it, listed under a day weeks ago."""
    sent = device.run("send", "-m", "a report", "--codename-file", str(codename_file))
    assert sent.exit_code == 0, sent.output
    signer = reviewer_keys(instance).signing
    assert signer is not None
    reply_id = reply_to(app, codename_file.read_text().strip(), ASK, signer)
    with db_session(app) as session:
        row = session.get(Reply, reply_id)
        assert row is not None
        row.received_day = OLD_DAY
        session.commit()
    return reply_id


def _listed_again(app: Flask, reply_id: str, *, drop_original: bool) -> None:
    """As a seized server: the same envelope listed anew, under today's day."""
    with app.app_context(), db_session(app) as session:
        row = session.get(Reply, reply_id)
        assert row is not None
        envelope = services().store.path(reply_id).read_bytes()
        source = row.source_id
        if drop_original:
            session.delete(row)
            session.commit()
        post_reply(session, source, envelope)


def test_an_old_reply_listed_again_under_today_is_shown_with_the_day_it_was_first_shown(
    device: Device, codename_file: Path, app: Flask, instance: Path
) -> None:
    reply_id = _first_reply(device, codename_file, app, instance)
    first = device.run("replies", "--codename-file", str(codename_file))
    assert first.exit_code == 0, first.output
    assert f"reply 1 of 1, undated (the server lists it under {OLD_DAY}), from Demo" in first.stdout

    _listed_again(app, reply_id, drop_original=True)
    today = dt.datetime.now(dt.UTC).date()
    again = device.run("replies", "--codename-file", str(codename_file))
    assert again.exit_code == 0, again.output
    assert ASK in again.stdout
    assert f"{today}, from" not in again.stdout, (
        f"the old reply was shown as today's: {again.stdout.splitlines()[0]}"
    )
    assert f"reply 1 of 1, undated (first shown here under {OLD_DAY}), from Demo" in again.stdout
    assert f"now lists it under {today}" in again.stderr


def test_one_reply_listed_twice_is_shown_once(
    device: Device, codename_file: Path, app: Flask, instance: Path
) -> None:
    reply_id = _first_reply(device, codename_file, app, instance)
    _listed_again(app, reply_id, drop_original=False)
    with db_session(app) as session:
        assert len(session.execute(select(Reply)).scalars().all()) == 2
    read = device.run("replies", "--codename-file", str(codename_file))
    assert read.exit_code == 0, read.output
    assert read.stdout.count(ASK) == 1, "one reply, listed twice by the server, was shown twice"
    assert "the same reply as reply 1" in read.stdout


def _written_and_applied(
    device: Device, codename_file: Path, app: Flask, instance: Path, tmp_path: Path
) -> str:
    """A report; the workstation's reply to it, written today and applied on the server."""
    sent = device.run("send", "-m", "a report", "--codename-file", str(codename_file))
    assert sent.exit_code == 0, sent.output
    server = Server(app, instance)
    workspace = init_workspace(server, tmp_path / "workspace")
    imported = review(workspace, "import", str(server.export(tmp_path / "export.rzb")))
    assert imported.exit_code == 0, imported.output
    (tmp_path / "reply.txt").write_text(ASK, "utf-8")
    written = review(workspace, "reply", "1", "--file", str(tmp_path / "reply.txt"))
    assert written.exit_code == 0, written.output
    bundle = tmp_path / "replies.rzr"
    assert review(workspace, "export-replies", "--out", str(bundle)).exit_code == 0
    assert server.apply(bundle).replies == 1
    with db_session(app) as session:
        (reply_id,) = session.execute(select(Reply.id)).scalars().all()
    return str(reply_id)


def _listed_under(app: Flask, reply_id: str, day: dt.date) -> None:
    """As a seized server: the reply's row says it arrived on `day`."""
    with db_session(app) as session:
        row = session.get(Reply, reply_id)
        assert row is not None
        row.received_day = day
        session.commit()


def test_a_reply_held_back_and_listed_weeks_later_is_shown_under_the_day_it_was_written(
    device: Device, codename_file: Path, app: Flask, instance: Path, tmp_path: Path
) -> None:
    reply_id = _written_and_applied(device, codename_file, app, instance, tmp_path)
    written = dt.datetime.now(dt.UTC).date()
    later = written + dt.timedelta(days=30)
    _listed_under(app, reply_id, later)
    read = device.run("replies", "--codename-file", str(codename_file))
    assert ASK in read.stdout, read.output
    assert f", {later}, from" not in read.stdout, (
        f"the reply written on {written} was shown as {later}'s: "
        f"{[line for line in read.stdout.splitlines() if line.startswith('---')]}"
    )
    assert f"written {written}, from Demo reviewer" in read.stdout
    # Written under the keyring this device was shown: nothing said of it (reply format 3).
    assert "its reviewers" not in read.stderr
    assert f"the server lists it under {later}, 30 days after it was written" in read.stderr


def test_a_reply_listed_before_the_day_it_was_written_is_called_impossible(
    device: Device, codename_file: Path, app: Flask, instance: Path, tmp_path: Path
) -> None:
    reply_id = _written_and_applied(device, codename_file, app, instance, tmp_path)
    written = dt.datetime.now(dt.UTC).date()
    earlier = written - dt.timedelta(days=3)
    _listed_under(app, reply_id, earlier)
    read = device.run("replies", "--codename-file", str(codename_file))
    assert read.exit_code == 0, read.output
    assert f"written {written}, from Demo reviewer" in read.stdout, read.output
    assert f"the server lists it under {earlier}, before it was written" in read.stderr


def test_under_no_state_a_reply_listed_weeks_after_it_was_written_is_called_out(
    device: Device, codename_file: Path, app: Flask, instance: Path
) -> None:
    sent = device.run("send", "-m", "a report", "--codename-file", str(codename_file))
    assert sent.exit_code == 0, sent.output
    signer = reviewer_keys(instance).signing
    assert signer is not None
    # To the codename's key (a --no-state run holds no one-time key), written weeks ago,
    # listed by the server under today: shown for the first time on a device that keeps nothing.
    reply_to(app, codename_file.read_text().strip(), ASK, signer, written=OLD_DAY)
    today = dt.datetime.now(dt.UTC).date()
    pins = device.state.parent / "pins.txt"
    pins.write_text(
        f"instance {device.url}\n" + "".join(f"authority {a}\n" for a in device.authorities)
    )
    base = ["--no-state", "--pins-file", str(pins), *device.transport]
    read = CliRunner().invoke(cli, [*base, "replies", "--codename-file", str(codename_file)])
    assert read.exit_code == 0, read.output
    assert ASK in read.stdout
    assert f"reply 1 of 1, written {OLD_DAY}, from Demo reviewer" in read.stdout, read.stdout
    assert f"the server lists it under {today}, {(today - OLD_DAY).days} days after" in read.stderr


def test_a_reply_written_before_replies_carried_their_day_is_shown_under_the_servers_day(
    device: Device, codename_file: Path, app: Flask, instance: Path
) -> None:
    reply_id = _first_reply(device, codename_file, app, instance)
    assert reply_id
    read = device.run("replies", "--codename-file", str(codename_file))
    assert read.exit_code == 0, read.output
    assert f"reply 1 of 1, undated (the server lists it under {OLD_DAY}), from Demo" in read.stdout
    assert f"{OLD_DAY} is the day the server lists it under, which it could change" in read.stderr


def test_a_reply_that_carries_no_day_is_never_headed_by_the_servers_day(
    device: Device, codename_file: Path, app: Flask, instance: Path
) -> None:
    # Held back since it was written, and listed under today the first time it is shown.
    reply_id = _first_reply(device, codename_file, app, instance)
    today = dt.datetime.now(dt.UTC).date()
    _listed_under(app, reply_id, today)
    read = device.run("replies", "--codename-file", str(codename_file))
    assert read.exit_code == 0, read.output
    header = read.stdout.splitlines()[0]
    assert f", {today}, from" not in header, (
        f"a reply that carries no day was headed by the day the server chose: {header}"
    )
    assert f"reply 1 of 1, undated (the server lists it under {today}), from" in header


@pytest.mark.parametrize(
    "content",
    [b"Meet on Friday", b"written 2026-13-02\n\nMeet", b"written 2026-11-02\nMeet", b"\xff"],
    ids=["no-day", "no-date", "one-newline", "not-utf8"],
)
def test_a_reply_of_format_2_without_its_day_is_not_shown(
    device: Device, codename_file: Path, app: Flask, instance: Path, content: bytes
) -> None:
    sent = device.run("send", "-m", "a report", "--codename-file", str(codename_file))
    assert sent.exit_code == 0, sent.output
    signer = reviewer_keys(instance).signing
    assert signer is not None
    with app.app_context(), db_session(app) as session:
        source = session.get(Source, source_id(app, codename_file.read_text().strip()))
        assert source is not None
        envelope = seal_bytes(
            content,
            [PublicKey.from_text(source.public_key)],
            Metadata("reply", REPLY_TYPE),
            signer=signer,
        )
        post_reply(session, source.id, envelope)
    read = device.run("replies", "--codename-file", str(codename_file))
    assert read.exit_code == 1
    assert "did not verify" in read.stderr
    assert "Meet" not in read.stdout
