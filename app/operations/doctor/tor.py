"""Whether the tor that `raazdar serve` uses is up and publishing the onion services."""

from __future__ import annotations

from pathlib import Path
from typing import Final

from app import environment
from app.instance import InstancePaths
from app.operations.doctor.verdict import Check, Status, Surroundings, guarded
from app.operations.serve import DEFAULT_TOR_CONTROL
from app.operations.tor.control import Tor, TorError


def tor_check(instance: Path, where: Surroundings | None = None) -> Check:
    """Report tor's health for `instance` (the staff dashboard shows it too)."""
    return guarded("tor", lambda: _tor(InstancePaths(instance), where or Surroundings()))


# What the tor of each `raazdar serve --tor MODE` is, said before its health.
_TOR_MODES: Final = {
    "private": "a private Tor network on loopback (`raazdar serve --tor private`, a "
    "demonstration): the onion is reachable only through its SOCKS port, not from the Tor network",
    "launch": "serve's own tor on the Tor network (`raazdar serve --tor launch`)",
    "attach": "the system's tor (`raazdar serve --tor attach`)",
}


# Where serve's own tors keep their control sockets (none for attach).
_TOR_SOCKETS: Final = {"private": "private-data", "launch": "data"}


def _tor(paths: InstancePaths, where: Surroundings) -> Check:
    """Report tor's bootstrap, where there is a tor to ask, and which tor it is."""
    mode = environment.get("RAAZDAR_TOR_MODE", environ=where.environ)
    control = environment.get("RAAZDAR_TOR_CONTROL", environ=where.environ)
    if mode == "off":
        # Set by `raazdar serve` for its gunicorn: this server was asked not to use tor.
        return Check(
            "tor",
            Status.WARN,
            "this server runs with `raazdar serve --tor off`: loopback only, NOT reachable "
            "as an onion service; restart it with --tor private, launch or attach to publish it",
        )
    if mode in _TOR_MODES:
        # Running under `raazdar serve`: say which tor, then how it is.
        if mode == "attach":
            check = _ask_tor(control or DEFAULT_TOR_CONTROL, explicit=True)
        else:
            socket = paths.root / "tor" / _TOR_SOCKETS[mode] / "control.sock"
            check = (
                # resolve(): a deep instance's socket is a link to a shorter path (`Tor.launch`).
                _ask_tor(str(socket.resolve()), explicit=True)
                if socket.exists()
                else Check("tor", Status.WARN, "it is still starting: reload this page in a minute")
            )
        return Check("tor", check.status, f"{_TOR_MODES[mode]}; {check.message}")
    if control:
        return _ask_tor(control, explicit=True)
    # The control sockets of the tors `raazdar serve` starts itself.
    for data in ("data", "private-data"):
        socket = paths.root / "tor" / data / "control.sock"
        if socket.exists():
            return _ask_tor(str(socket.resolve()), explicit=False)
    if where.tor_binary:
        return Check(
            "tor",
            Status.WARN,
            f"tor is installed ({where.tor_binary}) but not running for this instance: "
            "start `raazdar serve`, or set RAAZDAR_TOR_CONTROL to check a running tor",
        )
    return Check(
        "tor",
        Status.WARN,
        "tor is not installed: `raazdar serve` serves on loopback only, "
        "NOT as an onion service; install tor",
    )


def _ask_tor(control: str, *, explicit: bool) -> Check:
    """Attach to a tor and report how far it has bootstrapped."""
    try:
        tor = Tor.attach(control)
    except TorError as exc:
        status = Status.FAIL if explicit else Status.WARN
        return Check("tor", status, f"{exc}: is tor running?")
    try:
        health = tor.health()
    finally:
        tor.close()
    if health.bootstrap < 100:
        return Check(
            "tor",
            Status.WARN,
            f"tor at {control} has bootstrapped {health.bootstrap}% ({health.summary or '…'})",
        )
    return Check("tor", Status.OK, f"tor at {control} has bootstrapped 100%")
