"""The deploy files: gunicorn listens on loopback only, and the systemd units are hardened."""

from __future__ import annotations

import os
import runpy
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from app.operations.serve import GUNICORN_CONF

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
SYSTEMD = DEPLOY / "systemd"
APP_UNITS = ["raazdar.service", "raazdar-purge.service", "raazdar-sweep.service"]
UNITS = [*APP_UNITS, "raazdar-purge.timer", "raazdar-sweep.timer"]

# Every unit that runs Raazdar's code carries all of these.
HARDENING = {
    "User": "raazdar",
    "NoNewPrivileges": "yes",
    "ProtectSystem": "strict",
    "ReadWritePaths": "/var/lib/raazdar",
    "ProtectHome": "yes",
    "PrivateTmp": "yes",
    "PrivateDevices": "yes",
    "ProtectKernelTunables": "yes",
    "ProtectKernelModules": "yes",
    "ProtectKernelLogs": "yes",
    "ProtectControlGroups": "yes",
    "RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6",
    "RestrictNamespaces": "yes",
    "LockPersonality": "yes",
    "MemoryDenyWriteExecute": "yes",
    "SystemCallArchitectures": "native",
    "SystemCallFilter": "@system-service",
    "CapabilityBoundingSet": "",
    "UMask": "0077",
    "LimitCORE": "0",
    # A worker's memory (a report being sealed, a codename) never goes to a swap device.
    "MemorySwapMax": "0",
}


def load_conf(monkeypatch: pytest.MonkeyPatch, **env: str) -> dict[str, Any]:
    """Evaluate app/gunicorn.conf.py as gunicorn does, under `env`."""
    for name in ("RAAZDAR_BIND", "RAAZDAR_STAFF_BIND"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(GUNICORN_CONF))


class Unit(dict[str, dict[str, str]]):
    """A parsed unit file: section -> key -> value (repeated keys joined by spaces)."""


def unit(name: str) -> Unit:
    """Parse a unit file as systemd reads the directives checked here."""
    parsed = Unit()
    section: dict[str, str] = {}
    for raw in (SYSTEMD / name).read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = parsed.setdefault(line[1:-1], {})
            continue
        key, _, value = line.partition("=")
        section[key] = f"{section[key]} {value}".strip() if key in section else value
    return parsed


# --- gunicorn ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "bind"),
    [
        ({}, ["127.0.0.1:8000"]),
        ({"RAAZDAR_BIND": "127.0.0.1:8080"}, ["127.0.0.1:8080"]),
        (
            {"RAAZDAR_BIND": "127.0.0.1:8080", "RAAZDAR_STAFF_BIND": "127.0.0.1:8081"},
            ["127.0.0.1:8080", "127.0.0.1:8081"],
        ),
        (
            {"RAAZDAR_BIND": "[::1]:8080", "RAAZDAR_STAFF_BIND": "unix:/run/raazdar/staff.sock"},
            ["[::1]:8080", "unix:/run/raazdar/staff.sock"],
        ),
        (
            {"RAAZDAR_BIND": "127.0.0.1:8080, unix:/run/s.sock", "RAAZDAR_STAFF_BIND": ""},
            ["127.0.0.1:8080", "unix:/run/s.sock"],
        ),
    ],
)
def test_gunicorn_binds_the_source_and_staff_listeners(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], bind: list[str]
) -> None:
    assert load_conf(monkeypatch, **env)["bind"] == bind


@pytest.mark.parametrize(
    "address",
    [
        "0.0.0.0:8080",
        "[::]:8080",
        "192.0.2.10:8080",
        "localhost:8080",
        ":8080",
        "8080",
        "127.0.0.1",
        "127.0.0.1:0",
        "127.0.0.1:70000",
        "::1:8080",
        "tcp://127.0.0.1:8080",
    ],
)
@pytest.mark.parametrize("variable", ["RAAZDAR_BIND", "RAAZDAR_STAFF_BIND"])
def test_gunicorn_refuses_a_bind_that_is_not_loopback(
    monkeypatch: pytest.MonkeyPatch, variable: str, address: str
) -> None:
    with pytest.raises(SystemExit, match="raazdar: error: refusing to bind"):
        load_conf(monkeypatch, **{variable: f"127.0.0.1:9000,{address}"})


def test_gunicorn_refuses_a_staff_listener_shared_with_sources(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(SystemExit, match="must not share"):
        load_conf(monkeypatch, RAAZDAR_BIND="127.0.0.1:8080", RAAZDAR_STAFF_BIND="127.0.0.1:8080")


def test_gunicorn_refuses_a_relative_staff_socket(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(SystemExit, match="absolute path"):
        load_conf(monkeypatch, RAAZDAR_STAFF_BIND="unix:staff.sock")


BOTH = {"RAAZDAR_BIND": "127.0.0.1:8080", "RAAZDAR_STAFF_BIND": "127.0.0.1:8081"}


def fake_server(bind: list[str], **settings: Any) -> Any:
    cfg = {
        "accesslog": None,
        "forwarded_allow_ips": "",
        "http_protocols": ["h1"],
        "http2_cleartext": "off",
        **settings,
    }
    return SimpleNamespace(cfg=SimpleNamespace(bind=bind, **cfg))


@pytest.fixture
def restore_umask() -> Iterator[None]:
    mask = os.umask(0o077)
    yield
    os.umask(mask)


@pytest.mark.usefixtures("restore_umask")
@pytest.mark.parametrize(
    "bind",
    [
        ["0.0.0.0:8080", "127.0.0.1:8081"],  # a -b flag on the command line
        ["127.0.0.1:8080"],  # the staff listener dropped by a -b flag
    ],
)
def test_gunicorn_refuses_at_start_what_flags_changed(
    monkeypatch: pytest.MonkeyPatch, bind: list[str]
) -> None:
    conf = load_conf(
        monkeypatch, RAAZDAR_BIND="127.0.0.1:8080", RAAZDAR_STAFF_BIND="127.0.0.1:8081"
    )
    with pytest.raises(SystemExit, match="raazdar: error"):
        conf["on_starting"](fake_server(bind))


@pytest.mark.usefixtures("restore_umask")
@pytest.mark.parametrize(
    "settings",
    [{"http_protocols": ["h2", "h1"]}, {"http2_cleartext": "prior-knowledge"}],
    ids=["h2", "h2c"],
)
def test_gunicorn_refuses_http2_a_flag_turned_on(
    monkeypatch: pytest.MonkeyPatch, settings: dict[str, Any]
) -> None:
    """HTTP/2 (`--http-protocols h2,h1`, `--http2-cleartext`) serves a connection's many
    streams in one thread, past the worker's head-first reading, its circuit's cap on
    connections and its turns; over a unix socket gunicorn trusts any peer to speak it. The
    configuration pins HTTP/1.1 and a start with either flag is refused."""
    conf = load_conf(monkeypatch, **BOTH)
    assert conf["http_protocols"] == "h1"
    assert conf["http2_cleartext"] == "off"
    with pytest.raises(SystemExit, match="HTTP/2"):
        conf["on_starting"](fake_server(["127.0.0.1:8080", "127.0.0.1:8081"], **settings))


@pytest.mark.usefixtures("restore_umask")
def test_gunicorn_starts_with_both_listeners(monkeypatch: pytest.MonkeyPatch) -> None:
    conf = load_conf(
        monkeypatch, RAAZDAR_BIND="127.0.0.1:8080", RAAZDAR_STAFF_BIND="127.0.0.1:8081"
    )
    conf["on_starting"](fake_server(["127.0.0.1:8080", "127.0.0.1:8081"]))


# --- systemd ------------------------------------------------------------------------


@pytest.mark.parametrize("name", APP_UNITS)
def test_app_units_carry_the_hardening(name: str) -> None:
    service = unit(name)["Service"]
    missing = {k: v for k, v in HARDENING.items() if service.get(k) != v}
    assert not missing, f"{name} lacks or changes: {missing}"
    assert "raazdar" in service["ExecStart"]
    assert "RAAZDAR_INSTANCE=/var/lib/raazdar" in service["Environment"]


def test_the_server_unit_attaches_to_its_tor_and_reloads_the_staff_onion() -> None:
    parsed = unit("raazdar.service")
    service = parsed["Service"]
    assert "serve --tor attach" in service["ExecStart"]
    assert "--staff-port" in service["ExecStart"]
    assert service["ExecReload"] == "/bin/kill -HUP $MAINPID"
    assert service["SupplementaryGroups"] == "_tor-raazdar"
    assert "RAAZDAR_TOR_CONTROL=/run/tor-instances/raazdar/control" in service["Environment"]
    assert service["IPAddressDeny"] == "any"
    assert service["IPAddressAllow"] == "localhost"
    assert parsed["Unit"]["Requires"] == "tor@raazdar.service"


def test_the_purge_runs_once_a_real_day_and_catches_up() -> None:
    """A calendar timer follows the wall clock: stepped a day at a time, the clock ran a
    purge at each step, as many as the days it counted, and the purge's count of the days
    no purge ran (`retention.days_unaccounted`) saw nothing amiss. A monotonic one runs
    once a real day, and at boot (a day missed while the host was down)."""
    assert "raazdar purge" in unit("raazdar-purge.service")["Service"]["ExecStart"]
    timer = unit("raazdar-purge.timer")["Timer"]
    assert "OnCalendar" not in timer, "the purge timer runs on the wall clock's days"
    # Never more than a day apart (the delay counts from the last run), so no day goes
    # without a purge that the purge would count as one the clock gained.
    assert timer["OnUnitActiveSec"] == "23h"
    assert timer["RandomizedDelaySec"] == "1h"
    assert timer["OnBootSec"] == "15min"


def test_the_sweep_is_checked_hourly_and_catches_up() -> None:
    assert "raazdar sweep" in unit("raazdar-sweep.service")["Service"]["ExecStart"]
    timer = unit("raazdar-sweep.timer")["Timer"]
    assert timer["OnCalendar"] == "hourly"
    assert timer["Persistent"] == "true"


def test_the_tor_override_adds_hardening() -> None:
    service = unit("tor@raazdar.service.d/raazdar.conf")["Service"]
    assert service["LimitCORE"] == "0"
    # tor's memory holds the onions' keys: none of it goes to a swap device.
    assert service["MemorySwapMax"] == "0"
    assert service["MemoryDenyWriteExecute"] == "yes"
    assert service["RestrictAddressFamilies"].startswith("AF_UNIX AF_INET AF_INET6")


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze missing")
def test_systemd_accepts_every_directive(tmp_path: Path) -> None:
    for name in UNITS:
        # verify also checks that ExecStart exists; the code is not installed here.
        text = (SYSTEMD / name).read_text().replace("/opt/raazdar/.venv/bin/raazdar", "/bin/true")
        (tmp_path / name).write_text(text)
    result = subprocess.run(  # noqa: S603 - fixed argument list
        [str(shutil.which("systemd-analyze")), "verify", *(str(tmp_path / n) for n in UNITS)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    complaints = [
        line
        for line in (result.stdout + result.stderr).splitlines()
        if "Unknown" in line or "Invalid" in line or "Failed" in line or "ignoring" in line
    ]
    assert not complaints, result.stderr


# --- torrc --------------------------------------------------------------------------


def torrc_options() -> dict[str, list[str]]:
    options: dict[str, list[str]] = {}
    for line in (DEPLOY / "torrc").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition(" ")
            options.setdefault(key, []).append(value)
    return options


def test_torrc_serves_onions_only_and_logs_no_addresses() -> None:
    options = torrc_options()
    assert options["SocksPort"] == ["0"]
    assert options["ControlPort"] == ["0"]
    assert options["ORPort"] == ["0"]
    assert options["SafeLogging"] == ["1"]
    assert options["HiddenServiceSingleHopMode"] == ["0"]
    assert all(not level.startswith(("info", "debug")) for level in options["Log"])
    # The stem-managed services are the default: no service is declared live here.
    assert "HiddenServiceDir" not in options


@pytest.mark.skipif(shutil.which("tor") is None, reason="tor is not installed")
def test_tor_accepts_the_torrc(tmp_path: Path) -> None:
    data, run = tmp_path / "data", tmp_path / "run"
    for directory in (data, run):
        directory.mkdir(mode=0o700)
    defaults = tmp_path / "defaults"
    # Debian's instance defaults, pointed at the test's directories, without User.
    defaults.write_text(
        f"DataDirectory {data}\n"
        f"ControlSocket {run}/control GroupWritable RelaxDirModeCheck\n"
        f"SocksPort unix:{run}/socks WorldWritable\n"
        "CookieAuthentication 1\nCookieAuthFileGroupReadable 1\n"
        f"CookieAuthFile {run}/control.authcookie\n"
    )
    result = subprocess.run(  # noqa: S603 - fixed argument list
        [
            str(shutil.which("tor")),
            "--defaults-torrc",
            str(defaults),
            "-f",
            str(DEPLOY / "torrc"),
            # Only the configuration is checked, but never let a tor near the network.
            "--DisableNetwork",
            "1",
            "--verify-config",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Configuration was valid" in result.stdout
