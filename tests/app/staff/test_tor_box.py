"""The staff dashboard's tor box, when `serve --tor off` runs: no "start `raazdar serve`"."""

from __future__ import annotations

from pathlib import Path

from app.operations.doctor import Status, Surroundings, tor_check


def test_tor_off_is_named_as_such_not_as_a_server_to_start(tmp_path: Path) -> None:
    where = Surroundings(environ={"RAAZDAR_TOR_MODE": "off"}, tor_binary="/usr/sbin/tor")
    check = tor_check(tmp_path, where)
    assert check.status == Status.WARN
    assert "start `raazdar serve`" not in check.message
    assert check.message.startswith("this server runs with `raazdar serve --tor off`")


def test_without_serve_the_box_still_says_to_start_it(tmp_path: Path) -> None:
    where = Surroundings(environ={}, tor_binary="/usr/sbin/tor")
    assert "start `raazdar serve`" in tor_check(tmp_path, where).message
