"""`raazdar-submit replies` shows the status the reviewers set, as the account page does.

A source who reads with the client was never shown the status notice: a
"needs-info" (the reviewers need more from them) went unseen.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from app.models import Source
from tests.app.support import db_session, source_id
from tests.submit.support import Device


def _set_notice(app: Flask, codename_file: Path, notice: str) -> None:
    """As a reply bundle does (or, for a word no bundle sets, a server in the wrong hands)."""
    with db_session(app) as session:
        row = session.get(Source, source_id(app, codename_file.read_text().strip()))
        assert row is not None
        row.notice = notice
        session.commit()


def test_replies_shows_the_status_notice_as_the_servers_word(
    device: Device, codename_file: Path, app: Flask
) -> None:
    assert device.run("replies", "--codename-file", str(codename_file)).exit_code == 0
    _set_notice(app, codename_file, "needs-info")
    read = device.run("replies", "--codename-file", str(codename_file))
    assert read.exit_code == 0, read.output
    assert "needs-info" in read.stdout, "the reviewers' status was not shown"
    assert "the server's word" in read.stdout


@pytest.mark.parametrize("word", ["\x1b[2Jclosed", "call +92 300 0000000", "x" * 40])
def test_a_status_the_server_makes_up_is_not_shown(
    device: Device, codename_file: Path, app: Flask, word: str
) -> None:
    assert device.run("replies", "--codename-file", str(codename_file)).exit_code == 0
    _set_notice(app, codename_file, word[:32])
    read = device.run("replies", "--codename-file", str(codename_file))
    assert read.exit_code == 0, read.output
    assert word[:32] not in read.output
    assert "\x1b" not in read.output
