"""gunicorn settings for Raazdar: loopback only, no request log, patient with slow Tor uploads.

`raazdar serve` and the test suite run `gunicorn -c` on this file
(`app.operations.serve.GUNICORN_CONF`). It ships inside the package, so an installed
raazdar has it, and is package data, not a module: loading it sets
RAAZDAR_RUN_KEY, which no import may do by accident.
The environment chooses the addresses (RAAZDAR_BIND for the source listener,
RAAZDAR_STAFF_BIND for the staff listener; each may list several, separated by
commas), the number of worker processes (RAAZDAR_WORKERS) and threads per
worker (RAAZDAR_THREADS).
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import time
from pathlib import Path
from typing import Any

from gunicorn.glogging import Logger

from app import environment
from app.dumps import forbid_core_dumps
from app.logs import SCRUB
from app.serving import MigrationRunning, hold_serving

# The descriptor holding the instance's shared lock (app.serving), open for the server's life.
_HELD: list[int] = []


def _refuse(message: str) -> SystemExit:
    return SystemExit(f"raazdar: error: {message}")


def _loopback_bind(value: str) -> str:
    """Return `value` if it is `unix:PATH` or `IP:PORT` with a loopback IP literal."""
    if value.startswith("unix:") and len(value) > len("unix:"):
        return value
    host, colon, port = value.rpartition(":")
    bracketed = host.startswith("[") and host.endswith("]")
    if bracketed:
        host = host[1:-1]
    try:
        # An IP literal only: a host name could resolve to anything.
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    # IPv6 in brackets, IPv4 without, as gunicorn parses them.
    well_formed = colon and port.isdigit() and 0 < int(port) < 65536 and bracketed == (":" in host)
    if not (loopback and well_formed):
        raise _refuse(
            f"refusing to bind gunicorn to {value!r}: give 127.0.0.1:PORT, [::1]:PORT "
            "or unix:PATH (the onion service is the only way in)"
        )
    return value


def _count(name: str, default: int) -> int:
    """Read a positive count from the environment."""
    raw = environment.get(name)
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise _refuse(f"{name} must be a positive whole number, not {raw!r}")
    return int(raw)


def _cores() -> int:
    """The CPUs this process may use (a container's limit, not the host's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _binds(name: str, default: str = "") -> list[str]:
    """Read a comma-separated list of loopback binds from the environment."""
    return [
        _loopback_bind(b.strip()) for b in environment.get(name, default).split(",") if b.strip()
    ]


# --- Where to listen ---------------------------------------------------------

# Tor connects to gunicorn over loopback (or a unix socket); nothing else may.
# Checked again in `on_starting`, after command-line flags have had their say.
# A unix socket is created 0600 (see `umask`): the tor using it must run as
# the same user, as the one `raazdar serve` launches does.
_SOURCE_BINDS = _binds("RAAZDAR_BIND", "127.0.0.1:8000")
# The staff listener, behind the client-authorised staff onion: the app reads
# the same variable and answers staff pages only on a socket listed in it, so
# a source bind listed here too would open the staff pages to every source.
_STAFF_BINDS = _binds("RAAZDAR_STAFF_BIND")
if any(b.startswith("unix:") and not b.startswith("unix:/") for b in _STAFF_BINDS):
    # The app compares the socket's own name with this text: it must be absolute.
    raise _refuse("a unix socket in RAAZDAR_STAFF_BIND needs an absolute path")
if set(_SOURCE_BINDS) & set(_STAFF_BINDS):
    raise _refuse("RAAZDAR_BIND and RAAZDAR_STAFF_BIND must not share an address")
bind = [*_SOURCE_BINDS, *_STAFF_BINDS]

# Every request arrives from the local tor, so no header saying who the client
# "really" is or which scheme it used can be trusted: any Tor user could send
# one. Over a unix socket gunicorn trusts every peer for these, hence both lists
# are emptied too, not only the allow-list.
forwarded_allow_ips = ""
secure_scheme_headers: dict[str, str] = {}
forwarder_headers = ""
proxy_protocol = "off"

# gunicornc's control socket is not needed (`raazdar serve` uses signals), and
# its default path (~/.gunicorn/gunicorn.ctl) is shared by every gunicorn of the
# user: a second server (the test suite runs several) would take it over.
control_socket_disable = True

# --- Workers -----------------------------------------------------------------

# Two per core, at least two, so one stuck worker never stops the service.
# Argon2id codename derivations (128 MiB each) run in a pool of slots shared by
# every worker (`app.kdf_pool`, RAAZDAR_KDF_SLOTS, one per core by default), so
# memory is bounded by the slots, not by workers x threads.
workers = _count("RAAZDAR_WORKERS", max(2, 2 * _cores()))

# Threads, because an upload over Tor can take minutes: with the sync worker
# each slow upload would hold a whole process. gthread's main loop keeps the
# heartbeat going while threads wait on slow clients.
# `app.worker` is gthread that reads each request head in its main loop, with
# deadlines on heads and bodies: a client dripping bytes holds no thread while
# its head arrives, and is cut off when it falls behind (see deploy/README.md).
# Argon2id derivations are bounded by their own pool (`app.kdf_pool`), not by
# the thread count, so threads are many and cheap.
worker_class = "app.worker.HeadFirstWorker"
threads = _count("RAAZDAR_THREADS", 16)

# Each worker builds its own app after the fork: no database connection, key
# cache or secret is created in the master and shared between processes.
preload_app = False

# Except the run key (app.runkey), made here in the master so that every worker
# shares it: throttle windows and spent TOTP steps are stored as tags under it.
# It lives in memory only, so a copy of the database never dates them.
os.environ.setdefault("RAAZDAR_RUN_KEY", f"{secrets.token_hex(32)}:{time.time():.0f}")

# Workers are never recycled on a request count: a restart cuts off uploads.
max_requests = 0

# --- Timeouts ----------------------------------------------------------------

# A worker silent this long is killed. gthread workers keep reporting while
# their threads wait on slow clients; were the worker class ever changed to
# sync, a worker would be silent for a whole upload, which can take minutes.
timeout = 600
# On restart or stop, requests in flight get this long to finish.
graceful_timeout = 30
# Tor Browser reuses its circuit's connection for the next page; not for long.
keepalive = 5

# --- Request limits ----------------------------------------------------------

# No URL here is long (the language switch's `next` is the longest), and Tor
# Browser sends a dozen or so short headers; bodies are bounded by the app.
limit_request_line = 4094
limit_request_fields = 50
limit_request_field_size = 8190

# HTTP/1.1 only, no cleartext HTTP/2 (gunicorn's defaults, pinned, and checked in
# `on_starting` against flags): HTTP/2 carries many requests on one connection, served in one
# thread past the worker's head-first reading, its circuit's connection cap and its turns
# (`app.worker`); and over a unix socket gunicorn trusts every peer to speak it.
http_protocols = "h1"
http2_cleartext = "off"

# --- Files -------------------------------------------------------------------

# Files gunicorn creates (a unix socket, the worker heartbeat files) are the
# server user's alone; `on_starting` applies the same mask to the app's files.
umask = 0o077

# --- Logging -----------------------------------------------------------------

# No access log: it would record who asked for what, and when.
accesslog = None
# Problems go to stderr (journald or the terminal), scrubbed by PrivateLogger.
errorlog = "-"
loglevel = "info"
# Leave logconfig, logconfig_dict and syslog unset: they bring timestamps back,
# and turn stock gunicorn's access log on (PrivateLogger.access ignores it).

# Every record is scrubbed by the same filter as the app's (`app.logs`).


class PrivateLogger(Logger):
    """gunicorn's logger with no access log, no timestamps and no client data."""

    # No time of day: a timestamped error says when a source was active.
    error_fmt = "[%(process)d] [%(levelname)s] %(message)s"
    syslog_fmt = "[%(process)d] %(message)s"

    def setup(self, cfg: Any) -> None:
        """Set up as usual, then scrub every record (addFilter ignores repeats on reload)."""
        super().setup(cfg)
        self.error_log.addFilter(SCRUB)

    def access(self, resp: Any, req: Any, environ: Any, request_time: Any) -> None:
        """Never log a request, whatever else is configured."""


logger_class = PrivateLogger


# --- Hooks -------------------------------------------------------------------


def on_starting(server: Any) -> None:
    """Before binding: make the app's files private and check the final settings."""
    # gunicorn's own `umask` covers only its sockets and heartbeat files; the
    # app's SQLite database, WAL and envelopes inherit the process mask.
    os.umask(umask)
    cfg = server.cfg
    for address in cfg.bind:
        _loopback_bind(address)
    # A `-b` on the command line replaces the list: the staff listener must survive it.
    missing = [b for b in _STAFF_BINDS if b not in cfg.bind]
    if missing:
        raise _refuse(f"RAAZDAR_STAFF_BIND names {missing} but gunicorn would not listen there")
    if cfg.accesslog is not None or cfg.forwarded_allow_ips:
        raise _refuse("an access log or trusted proxies were configured; Raazdar allows neither")
    if list(cfg.http_protocols) != ["h1"] or cfg.http2_cleartext != "off":
        raise _refuse("HTTP/2 was configured; Raazdar's worker serves HTTP/1.1 only")
    # Shared with every worker through the fork: `raazdar migrate` is refused while any lives.
    # (`raazdar serve` and the systemd unit always name the instance.)
    instance = environment.get("RAAZDAR_INSTANCE", None)
    if instance:
        try:
            _HELD.append(hold_serving(Path(instance).resolve()))
        except MigrationRunning as exc:
            raise _refuse(f"{exc}; {exc.hint}") from None
        except FileNotFoundError:
            pass  # no instance: the app says so as it loads


def when_ready(server: Any) -> None:
    """Before the first worker is forked: none may be dumped, or read by a process of its user."""
    forbid_core_dumps()
