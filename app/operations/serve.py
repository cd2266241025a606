"""`raazdar serve`: gunicorn on loopback, and the onion service in front of it.

Tor modes: `launch` starts a tor of our own on the Tor network; `attach` uses a
running tor's control port; `private` builds a private Tor network on loopback
(a demonstration that needs no internet, and the one the test suite uses; a
development tool a source checkout has, `app.operations.tor.private`); `off`
serves on loopback only. `auto` attaches when RAAZDAR_TOR_CONTROL is set,
else launches when tor is installed, else serves on loopback only.

gunicorn listens twice on loopback: the source port, behind the public source
onion, and the staff port, behind the staff onion that only authorised devices
can reach (RAAZDAR_STAFF_BIND tells the app which socket is the staff one). The
staff onion is published only while a device is authorised. SIGHUP re-reads
the authorised devices and re-publishes the staff onion under the same address,
so `staff-onion add-client` and `remove-client` take effect without a restart
that would cut off sources' uploads in flight. Uploads cut off by a restart all
the same resume afterwards: before gunicorn starts, staging is brought back in
line with the uploads table (`app.services.resumable.recover`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from types import FrameType

from app import circuits, environment
from app.errors import AppError, ConfigError
from app.instance import (
    InstancePaths,
    load_config,
    refuse_cut_off_rotation,
    refuse_unfinished_restore,
)
from app.models import today
from app.operations import sweep
from app.operations.rotation import NEXT_ONION_NAME, SOURCE_ONION_NAME, finish_promotion
from app.operations.tor import private
from app.operations.tor.clients import StaffClients, StaffOnion
from app.operations.tor.closer import CircuitCloser
from app.operations.tor.control import Tor, TorError
from app.services import resumable
from app.services.resumable import Recovered
from app.store import EnvelopeStore

log = logging.getLogger(__name__)

# Shipped inside the package (not importable: it sets RAAZDAR_RUN_KEY as it loads).
GUNICORN_CONF = Path(str(resources.files("app").joinpath("gunicorn.conf.py")))
TOR_MODES = ("auto", "launch", "attach", "private", "off")
# Where `--tor attach` finds the system's tor when RAAZDAR_TOR_CONTROL is not set.
DEFAULT_TOR_CONTROL = "127.0.0.1:9051"
# How often (in the main loop's half-seconds) serve looks for a revoked device: 2 s.
LOST_DEVICE_TICKS = 4


@dataclass
class Served:
    """What is running, for the caller to report."""

    url: str
    staff_url: str
    onion: str | None = None
    next_onion: str | None = None  # during an onion changeover (`raazdar rotate onion`)
    staff: StaffOnion | None = None
    tor_mode: str = "off"
    socks_port: int | None = None
    pow_defence: bool = False


def resolve_mode(mode: str) -> str:
    """Turn `auto` into a concrete mode for this machine."""
    if mode != "auto":
        return mode
    if environment.get("RAAZDAR_TOR_CONTROL"):
        return "attach"
    return "launch" if shutil.which("tor") else "off"


def names_circuits(mode: str) -> bool:
    """Whether the source onion of this tor mode names each connection's circuit to the app.

    Only a tor raazdar starts: an attached tor takes ADD_ONION, which cannot ask for it.
    """
    return mode in ("launch", "private")


def serve(
    instance: Path,
    *,
    port: int,
    tor_mode: str,
    say: Callable[[str], None],
    workers: int | None = None,
    staff_port: int | None = None,
    socks_port: int | None = None,
    sweep_at_start: bool = True,
) -> int:
    """Serve until SIGTERM or SIGINT (SIGHUP re-publishes the staff onion); return the status.

    A stop asked for at any moment, start-up included, stops every tor we
    started and gunicorn, says "stopped", and returns 0. Without
    `sweep_at_start` the arrival sweep is left to the host that runs it (several
    app hosts sharing one store, where a lock on it cannot be relied on).
    """
    paths = InstancePaths(instance)
    kind = load_config(paths).mode  # fail now, plainly, if there is no instance
    refuse_unfinished_restore(paths)
    refuse_cut_off_rotation(paths)
    _refuse_other_schema(instance)
    if paths.demo_keys.exists():
        kind = "demo"  # whatever config.json says: the demo's keys are here
    staff_port = port + 1 if staff_port is None else staff_port
    if staff_port == port:
        raise ConfigError("the staff port must differ from the source port")
    if socks_port is not None and socks_port in (port, staff_port):
        raise ConfigError("the SOCKS port must differ from the source and staff ports")
    mode = resolve_mode(tor_mode)
    if kind != "production" and mode == "launch":
        raise _on_tor_network(kind)
    # Found before anything starts: an installed server has none (a checkout's tool).
    network_class = private.load() if mode == "private" else None
    promoted = finish_promotion(InstancePaths(instance), today())
    if promoted.signing_key or promoted.onion:
        say("keyring: switched to the new key(s) the keyring in force lists (install cut off)")
    recover_uploads(instance, say)
    if sweep_at_start:
        sweep.at_start(instance, say)
    else:
        say("sweep: not at start (--no-sweep: the host with raazdar-sweep.timer sweeps)")
    env = dict(
        os.environ,
        RAAZDAR_INSTANCE=str(instance),
        RAAZDAR_BIND=f"127.0.0.1:{port}",
        RAAZDAR_STAFF_BIND=f"127.0.0.1:{staff_port}",
        # The staff dashboard's tor box says "--tor off" rather than "start serve".
        RAAZDAR_TOR_MODE=mode,
        # A tor of our own starts each source connection with its circuit (app.worker).
        RAAZDAR_TOR_CIRCUITS="1" if names_circuits(mode) else "0",
    )
    if mode != "off":
        # The staff onion serve publishes is an ADD_ONION service, which names no circuit:
        # a staff connection expecting tor's line would be closed. With --tor off the
        # torrc declares it, and the operator says (RAAZDAR_TOR_STAFF_CIRCUITS).
        env["RAAZDAR_TOR_STAFF_CIRCUITS"] = "0"
    if workers:
        env["RAAZDAR_WORKERS"] = str(workers)
    # Where tor names circuits, the workers ask it through this pipe to close one that
    # pushes past its pace (`app.operations.tor.closer`): four bytes a circuit, nothing else.
    closer_read, closer_write = os.pipe() if names_circuits(mode) else (-1, -1)
    if closer_write >= 0:
        env[circuits.CLOSER_FD_ENV] = str(closer_write)
    closer: CircuitCloser | None = None
    command = [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONF), "app:create_app()"]
    stop = threading.Event()
    reload = threading.Event()
    tor: Tor | None = None
    network: private.PrivateNetwork | None = None

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        (reload if signum == signal.SIGHUP else stop).set()

    signals = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
    previous = {s: signal.signal(s, on_signal) for s in signals}
    gunicorn = subprocess.Popen(  # noqa: S603 - fixed argument list
        command, env=env, pass_fds=() if closer_write < 0 else (closer_write,)
    )
    if closer_write >= 0:
        os.close(closer_write)
    try:
        served = Served(
            url=f"http://127.0.0.1:{port}/",
            staff_url=f"http://127.0.0.1:{staff_port}/staff/",
            tor_mode=mode,
        )
        if mode != "off":
            if socks_port is not None and mode != "private":
                say(f"warning: --socks-port applies to --tor private only, not {mode!r}")
            try:
                tor, network, served = _start_tor(
                    paths,
                    (mode, network_class, kind),
                    (port, staff_port, socks_port if mode == "private" else None),
                    served,
                    say,
                    stop.is_set,
                )
            except TorError:
                if not stop.is_set():
                    raise
        if tor is not None and closer_read >= 0:
            closer = CircuitCloser(tor.controller, closer_read)
            closer.start()
        if not stop.is_set():
            _report(served, say)
        ticks = 0
        while not stop.is_set() and gunicorn.poll() is None:
            stop.wait(0.5)
            ticks += 1
            # A device revoked with its account on the admin pages sends no SIGHUP.
            if ticks % LOST_DEVICE_TICKS == 0 and _lost_devices(served):
                reload.set()
            if reload.is_set():
                reload.clear()
                _reload_staff(served, say)
    finally:
        # Our handlers stay until every tor and gunicorn are stopped: a second SIGTERM or
        # SIGINT in the stop (`timeout`, `kill -TERM -PGID`, a second Ctrl-C) only asks
        # to stop again. Put back first, it ended serve inside the network's stop, and the
        # relays it had not reached, and gunicorn, ran on with nobody to stop them.
        if tor is not None:
            tor.close()
        if network is not None:
            network.stop()
        if gunicorn.poll() is None:
            gunicorn.terminate()
            try:
                gunicorn.wait(timeout=30)
            except subprocess.TimeoutExpired:
                gunicorn.kill()
        if closer is not None:
            closer.stop()
        elif closer_read >= 0:
            os.close(closer_read)
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    status = gunicorn.wait()
    # Asked to stop, even before gunicorn had set up its own handlers: a clean stop.
    if stop.is_set() and status in (0, -signal.SIGTERM, -signal.SIGINT):
        say("stopped")
        return 0
    return status


def _refuse_other_schema(instance: Path) -> None:
    """Refuse to start on a database that `raazdar migrate` has not brought to this release.

    Nor on one whose PostgreSQL dates every commit (`app.commit_times`).
    """
    from app.commit_times import refuse_dated_commits
    from app.config import config_for
    from app.migrate import refuse_other_schema

    url = config_for(instance).DATABASE_URL
    refuse_other_schema(url)
    refuse_dated_commits(url)


def recover_uploads(instance: Path, say: Callable[[str], None]) -> Recovered:
    """Keep the uploads in progress across this restart and clear what nothing will resume."""
    from sqlalchemy.orm import Session

    from app import db
    from app.config import config_for

    paths = InstancePaths(instance)
    engine = db.make_engine(config_for(instance).DATABASE_URL)
    try:
        with Session(engine) as session:
            found = resumable.recover(session, EnvelopeStore(paths.store, paths.staging))
    finally:
        engine.dispose()
    if found.kept or found.lost or found.expired or found.removed:
        say(
            f"uploads: {found.kept} in progress kept to resume "
            f"({found.cut_back} cut back to their last complete chunk), "
            f"{found.lost} lost (their sources start again), {found.expired} expired, "
            f"{found.removed} staging leftover(s) removed"
        )
    return found


def _start_tor(
    paths: InstancePaths,
    how: tuple[str, Callable[..., private.PrivateNetwork] | None, str],
    ports: tuple[int, int, int | None],
    served: Served,
    say: Callable[[str], None],
    cancelled: Callable[[], bool],
) -> tuple[Tor, private.PrivateNetwork | None, Served]:
    mode, network_class, kind = how
    port, staff_port, socks_port = ports
    tor_dir = paths.root / "tor"
    tor_dir.mkdir(mode=0o700, exist_ok=True)
    network = None
    began = time.monotonic()
    if mode == "attach":
        tor = Tor.attach(environment.get("RAAZDAR_TOR_CONTROL", DEFAULT_TOR_CONTROL))
        if kind != "production" and not tor.on_testing_network():
            tor.close()
            raise _on_tor_network(kind)
    elif mode == "launch":
        say("starting tor (Ctrl-C stops)")
        tor = Tor.launch(tor_dir / "data")
        say(f"tor started after {time.monotonic() - began:.1f} s")
    elif mode == "private" and network_class is not None:
        say("starting the private Tor network on loopback (usually 30-60 s; Ctrl-C stops)")
        network = network_class(tor_dir / "private-network", socks_port=socks_port)
        network.start(cancelled=cancelled)
        say(
            f"private Tor network up after {time.monotonic() - began:.1f} s "
            f"(SOCKS on 127.0.0.1:{network.socks_port}); starting the onion services' tor"
        )
        try:
            tor = Tor.launch(tor_dir / "private-data", extra=network.join_config())
        except TorError:
            network.stop()
            raise
        served.socks_port = network.socks_port
    else:
        raise TorError(f"unknown tor mode {mode!r}")
    if cancelled():
        tor.close()
        if network is not None:
            network.stop()
        raise TorError("stopped during start-up")
    try:
        sources = [(tor_dir / SOURCE_ONION_NAME, tor_dir / "source-service")]
        if (tor_dir / NEXT_ONION_NAME).exists():
            sources.append((tor_dir / NEXT_ONION_NAME, tor_dir / "source-next-service"))
        if names_circuits(mode):
            # A tor of our own names each connection's circuit to the app first.
            addresses = tor.publish_naming_circuits(sources, f"127.0.0.1:{port}")
        else:
            addresses = [tor.publish(key, f"127.0.0.1:{port}") for key, _ in sources]
        served.onion = addresses[0]
        served.next_onion = addresses[1] if len(addresses) > 1 else None
        served.pow_defence = tor.pow_enabled
        served.staff = StaffOnion(tor, StaffClients(tor_dir), f"127.0.0.1:{staff_port}")
        try:
            served.staff.refresh()
        except (AppError, OSError) as exc:
            # The staff onion stays down (never open), and sources are still served.
            served.staff.problems.append(str(exc))
    except BaseException:
        tor.close()
        if network is not None:
            network.stop()
        raise
    if network is not None:
        for address in (served.onion, served.staff.address):
            if address is not None:
                with contextlib.suppress(TorError):
                    network.wait_published(tor, address, timeout=60, cancelled=cancelled)
        if not cancelled():
            say(f"onion services published after {time.monotonic() - began:.1f} s")
    return tor, network, served


class OnTorNetworkRefused(ConfigError):
    """A demonstration or test instance is never published on the Tor network."""

    hint = (
        "serve it with --tor private (a private Tor network on loopback) or --tor off; "
        "a real instance starts from `raazdar init --manifest FILE` (deploy/README.md)"
    )


def _on_tor_network(kind: str) -> ConfigError:
    """Why a demonstration or test instance is never published on the Tor network."""
    what = "a demonstration" if kind == "demo" else f"a {kind}"
    return OnTorNetworkRefused(
        f"{what} instance is never served on the Tor network: its reviewer keys (or a "
        "derivation fast enough to try every codename) lie on this server, so whoever "
        "holds it reads every report sent to it"
    )


def _lost_devices(served: Served) -> bool:
    """Whether a device the staff onion is published for was revoked since (never raises)."""
    if served.staff is None:
        return False
    try:
        return served.staff.lost_devices()
    except OSError:
        return False


def _reload_staff(served: Served, say: Callable[[str], None]) -> None:
    """Re-read the staff onion's authorised devices and re-publish it if they changed."""
    if served.staff is None:
        say("SIGHUP: tor is off, so there is no staff onion to re-publish")
        return
    try:
        changed = served.staff.refresh()
    except (AppError, OSError) as exc:
        say(f"SIGHUP: could not re-publish the staff onion: {exc}")
        return
    if changed:
        _report_staff(served.staff, say)
    else:
        say("SIGHUP: the staff onion's authorised devices are unchanged")


def _report(served: Served, say: Callable[[str], None]) -> None:
    say(f"serving on loopback at {served.url} (bound to 127.0.0.1 only)")
    say(f"staff interface on loopback at {served.staff_url} (the staff listener)")
    if served.onion is None:
        say("tor is off or not installed: NOT reachable as an onion service; loopback only")
        return
    say(f"source onion service: http://{served.onion}/")
    if served.next_onion is not None:
        say(f"next source onion (changeover): http://{served.next_onion}/")
    if served.pow_defence:
        say("proof-of-work defence: on (tor makes floods of introductions pay in work)")
    else:
        say(
            "warning: proof-of-work defence: OFF (tor lacks the pow module or is older than "
            "0.4.9.2); a flood over Tor can only be slowed by the app: upgrade tor"
        )
    if names_circuits(served.tor_mode):
        say(
            "circuits: tor names each source connection's circuit; logins wait their turn "
            "by circuit, so a flood down one circuit delays others by one derivation at most"
        )
    else:
        say(
            "circuits: not named (an attached tor takes ADD_ONION, which cannot ask for it); "
            "logins wait first come, first served"
        )
    if served.staff is not None:
        _report_staff(served.staff, say)
    say(
        f"after `raazdar staff-onion add-client/remove-client`: kill -HUP {os.getpid()} "
        "(or `systemctl reload raazdar`) re-publishes the staff onion; no restart needed"
    )
    if served.tor_mode == "private":
        say(
            "tor mode 'private': a private Tor network on loopback (no internet needed); "
            f"reach the onion through its SOCKS proxy 127.0.0.1:{served.socks_port}, e.g. "
            f"curl --socks5-hostname 127.0.0.1:{served.socks_port} http://{served.onion}/"
        )
    elif served.tor_mode == "launch":
        say("tor mode 'launch': our own tor on the Tor network; publication follows bootstrap")


def _report_staff(staff: StaffOnion, say: Callable[[str], None]) -> None:
    for problem in staff.problems:
        say(f"warning: staff onion: {problem}")
    if staff.address is None:
        say(
            "staff onion service: NOT published, because no staff device is authorised "
            "(it is never open to all); add one with "
            "`raazdar staff-onion add-client NAME --for USERNAME`"
        )
        return
    devices = ", ".join(staff.published_for)
    say(
        f"staff onion service: http://{staff.address}/staff/ "
        f"(client authorisation: {len(staff.published_for)} device(s): {devices})"
    )
