"""Every environment variable the server reads, with its default and meaning: the one place.

The app, `raazdar doctor`, `raazdar serve` and gunicorn's config
(`app/gunicorn.conf.py`) read the environment through `get` and nowhere
else (`raazdar --instance` also falls back to RAAZDAR_INSTANCE, through click),
and `get` refuses a name this registry does not list, so a new variable cannot
be read without being documented here; docs/configuration.md is checked
against `VARIABLES` by tests/app/test_environment.py. Standard library only:
gunicorn's master imports it before forking, and must not load the app.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final, overload


class Shown(StrEnum):
    """What `raazdar doctor` may print of a variable's value."""

    # Harmless to paste into a bug report: a count, a mode, a flag.
    VALUE = "value"
    # A secret (a key, a password in a URL) or a path or address that may name
    # the organisation or the machine: only whether it is set.
    HIDDEN = "hidden"


@dataclass(frozen=True)
class Variable:
    """One environment variable: its name, what it means, its default, what may be printed."""

    name: str
    meaning: str
    default: str
    shown: Shown


VARIABLES: Final = (
    Variable(
        "RAAZDAR_INSTANCE",
        "The instance directory the app and `raazdar` use (`--instance` overrides it).",
        "instance/ in a source checkout; installed, ./instance",
        Shown.HIDDEN,
    ),
    Variable(
        "RAAZDAR_DATABASE_URL",
        "A database URL that replaces the one in the instance's config.json.",
        "config.json's database_url",
        Shown.HIDDEN,
    ),
    Variable(
        "RAAZDAR_BIND",
        "The source listener(s) gunicorn binds: loopback IP:PORT or unix:PATH, comma-separated.",
        "127.0.0.1:8000",
        Shown.HIDDEN,
    ),
    Variable(
        "RAAZDAR_STAFF_BIND",
        "The staff listener(s), the only sockets on which staff pages answer (comma-separated).",
        "none: no staff pages",
        Shown.HIDDEN,
    ),
    Variable(
        "RAAZDAR_WORKERS",
        "gunicorn worker processes.",
        "two per usable core, at least 2",
        Shown.VALUE,
    ),
    Variable("RAAZDAR_THREADS", "Threads per gunicorn worker.", "16", Shown.VALUE),
    Variable(
        "RAAZDAR_KDF_SLOTS",
        "Argon2id codename derivations at once on this host, across every worker.",
        "one per usable core",
        Shown.VALUE,
    ),
    Variable(
        "RAAZDAR_KDF_QUEUE",
        "Requests that may wait for a derivation slot; more are told `busy` at once.",
        "24 per slot",
        Shown.VALUE,
    ),
    Variable(
        "RAAZDAR_TOR_CONTROL",
        "The control port (host:port) or socket of a running tor for `serve --tor attach`.",
        "127.0.0.1:9051",
        Shown.HIDDEN,
    ),
    Variable(
        "RAAZDAR_TOR_MODE",
        "Set by `raazdar serve` for its workers: which tor it uses (off, launch, attach, private).",
        "unset outside `raazdar serve`",
        Shown.VALUE,
    ),
    Variable(
        "RAAZDAR_TOR_CIRCUITS",
        "1 when tor starts each source connection with its circuit "
        "(HiddenServiceExportCircuitID haproxy): set by `raazdar serve` for the tor it starts, "
        "or by hand with a torrc that declares it; a source connection without the line is closed.",
        "0 (unset outside `raazdar serve`)",
        Shown.VALUE,
    ),
    Variable(
        "RAAZDAR_TOR_STAFF_CIRCUITS",
        "1 when tor starts each staff connection with its circuit "
        "(HiddenServiceExportCircuitID haproxy in the staff onion's block of a torrc): staff "
        "logins then take turns by circuit; a staff connection without the line is closed.",
        "0",
        Shown.VALUE,
    ),
    Variable(
        "RAAZDAR_CIRCUIT_CLOSER_FD",
        "Set by `raazdar serve` for its workers: the pipe through which they ask its tor to "
        "close a circuit that pushes past its pace (four bytes, a circuit's number).",
        "unset outside `raazdar serve` (no circuit is closed)",
        Shown.VALUE,
    ),
    Variable(
        "RAAZDAR_RUN_KEY",
        "Set by gunicorn's master: this run's in-memory key, shared by its workers.",
        "a new key per process",
        Shown.HIDDEN,
    ),
    Variable(
        "RAAZDAR_EXTRAS",
        "Read by deploy/bootstrap.sh: the extras it installs, each with the hashed lock in "
        "deploy/locks/ named for them: `server`, `review`, `submit`, or all four "
        "(`server,review,submit,dev`); any other set is refused.",
        "server",
        Shown.VALUE,
    ),
    Variable(
        "FLASK_DEBUG",
        "Flask's debugger; `raazdar doctor` fails if it is on.",
        "off",
        Shown.VALUE,
    ),
    Variable(
        "GUNICORN_CMD_ARGS",
        "Extra gunicorn flags; `raazdar doctor` fails on any that would log requests.",
        "none",
        Shown.HIDDEN,
    ),
)
BY_NAME: Final = {v.name: v for v in VARIABLES}


@overload
def get(name: str, default: str = "", environ: Mapping[str, str] | None = None) -> str: ...
@overload
def get(name: str, default: None, environ: Mapping[str, str] | None = None) -> str | None: ...
def get(
    name: str, default: str | None = "", environ: Mapping[str, str] | None = None
) -> str | None:
    """A registered variable's value, or `default` when unset; KeyError for an unregistered one."""
    variable = BY_NAME[name]
    return (os.environ if environ is None else environ).get(variable.name, default)


def shown(variable: Variable, environ: Mapping[str, str] | None = None) -> str:
    """What may be printed of a variable: its value if harmless, else only whether it is set."""
    value = get(variable.name, environ=environ)
    if not value:
        return f"unset (default: {variable.default})"
    if variable.shown is Shown.VALUE:
        return repr(value)
    return "set (value not shown)"
