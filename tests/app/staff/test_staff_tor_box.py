"""The dashboard's tor box says which tor serves this instance, in each `serve --tor` mode."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from app.operations import doctor
from app.operations.doctor import Check, Status, Surroundings, tor_check
from app.staff import views as staff_views
from tests.app.staff_support import login, make_staff, staff_client

TOR = "/usr/sbin/tor"


@pytest.mark.parametrize(
    ("mode", "begins"),
    [
        ("private", "a private Tor network on loopback (`raazdar serve --tor private`"),
        ("launch", "serve's own tor on the Tor network (`raazdar serve --tor launch`)"),
    ],
)
def test_a_tor_of_serve_still_starting_is_named_not_asked_to_be_started(
    tmp_path: Path, mode: str, begins: str
) -> None:
    check = tor_check(tmp_path, Surroundings(environ={"RAAZDAR_TOR_MODE": mode}, tor_binary=TOR))
    assert check.message.startswith(begins)
    assert check.message.endswith("it is still starting: reload this page in a minute")
    assert "start `raazdar serve`" not in check.message
    assert check.status == Status.WARN


def test_the_private_network_is_said_to_be_unreachable_from_the_tor_network(
    tmp_path: Path,
) -> None:
    environ = {"RAAZDAR_TOR_MODE": "private"}
    message = tor_check(tmp_path, Surroundings(environ=environ, tor_binary=TOR)).message
    assert "reachable only through its SOCKS port, not from the Tor network" in message


def test_attach_names_the_system_tor_and_where_it_was_asked(tmp_path: Path) -> None:
    control = str(tmp_path / "control.sock")  # no tor there
    environ = {"RAAZDAR_TOR_MODE": "attach", "RAAZDAR_TOR_CONTROL": control}
    check = tor_check(tmp_path, Surroundings(environ=environ, tor_binary=TOR))
    assert check.message.startswith("the system's tor (`raazdar serve --tor attach`); ")
    assert control in check.message
    assert check.status == Status.FAIL


def test_the_dashboard_shows_the_mode_serve_runs_in(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAAZDAR_TOR_MODE", "private")
    monkeypatch.delenv("RAAZDAR_TOR_CONTROL", raising=False)
    client = staff_client(app)
    login(client, app, make_staff(app))
    page = client.get("/staff/").get_data(as_text=True)
    assert "a private Tor network on loopback" in page
    assert "start <code>raazdar serve</code>" not in page
    assert "start `raazdar serve`" not in page


def test_the_dashboard_asks_tor_at_most_once_in_a_few_seconds(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each dashboard opened tor's control socket: a session loading it in a loop had tor
    asked as often, by every worker."""
    asked: list[Path] = []

    def counted(instance: Path, where: Surroundings | None = None) -> Check:
        asked.append(instance)
        return Check("tor", Status.OK, "bootstrapped")

    monkeypatch.setattr(doctor, "tor_check", counted)
    client = staff_client(app)
    login(client, app, make_staff(app))
    for _ in range(5):
        assert "bootstrapped" in client.get("/staff/").get_data(as_text=True)
    assert len(asked) == 1, f"tor was asked {len(asked)} times for 5 dashboards"
    # Past `TOR_HEALTH_SECONDS` it is asked again: the box never goes stale for long.
    monkeypatch.setattr(staff_views, "TOR_HEALTH_SECONDS", 0.0)
    client.get("/staff/")
    assert len(asked) == 2
