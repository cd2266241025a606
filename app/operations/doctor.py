"""`raazdar doctor`: whether an instance is as safe to run as it is meant to be.

Each check gives `ok`, `warn` or `fail` and a plain sentence. The checks read
the instance directly instead of through the app, because the moment an
administrator needs them is often when the app refuses to start (a lapsed
keyring, an unreadable key); that refusal is itself one of the checks.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import runpy
import shlex
import shutil
import stat
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Final

from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from app import db, environment
from app.config import Config, config_for
from app.demo import TIMESTAMP_KEY_NAME
from app.errors import AppError
from app.instance import InstancePaths, load_config, sqlite_path
from app.keyring import fresh_timestamp, load_keyring
from app.models import Item
from app.operations import retention, sweep
from app.operations.keyring_admin import EXPIRY_WARNING_DAYS, TIMESTAMP_WARNING_DAYS
from app.operations.serve import DEFAULT_TOR_CONTROL, GUNICORN_CONF
from app.operations.tor.control import Tor, TorError
from app.services import audit
from app.settings import get_setting
from app.store import EnvelopeStore

# Filesystems whose writes go to new blocks: an overwrite cannot reach the old ones.
COPY_ON_WRITE: Final = frozenset({"btrfs", "zfs", "f2fs", "nilfs2", "bcachefs"})
# gunicorn reads extra flags from this variable; any of these would log requests.
_ACCESS_LOG_FLAGS: Final = ("--access-logfile", "--access-logformat", "--log-config")
_FALSE_WORDS: Final = frozenset({"", "0", "false", "no", "off"})


class Status(StrEnum):
    """How a check came out."""

    OK = "ok"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True)
class Check:
    """One check's verdict, in words an administrator can act on."""

    name: str
    status: Status
    message: str


@dataclass(frozen=True)
class Surroundings:
    """What the doctor looks at besides the instance: the environment, tor, gunicorn's config."""

    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    tor_binary: str | None = field(default_factory=lambda: shutil.which("tor"))
    gunicorn_conf: Path = GUNICORN_CONF
    mounts: Path = Path("/proc/self/mounts")
    clock: Callable[[], float] = time.time


def diagnose(instance: Path, today: dt.date, where: Surroundings | None = None) -> list[Check]:
    """Run every check on `instance` and return the verdicts, in a fixed order."""
    where = where or Surroundings()
    paths = InstancePaths(instance.resolve())
    config, mode = _config(paths)
    database = _sqlite_file(config.DATABASE_URL) if config is not None else paths.database
    checks = [_guard("permissions", lambda: _permissions(paths, database)), mode]
    if config is not None:
        checks.append(_guard("database", lambda: _database_place(paths, config)))
        checks.append(_guard("startup", lambda: _startup(config, where)))
    checks.append(_guard("keyring", lambda: _keyring(paths, today)))
    checks.append(_guard("timestamp", lambda: _timestamp(paths, today)))
    store = EnvelopeStore(paths.store, paths.staging)
    if config is not None:
        checks += _database_checks(config, today, store)
    checks.append(_guard("staging", lambda: _staging(store)))
    if config is not None:
        checks.append(_guard("sweep", lambda: _sweep(config, store, where.clock())))
    checks.append(_guard("store", lambda: _filesystem(paths.store, where.mounts)))
    checks.append(_guard("atime", lambda: _atime(paths.root, where.mounts)))
    checks.append(_guard("gunicorn", lambda: _gunicorn(where)))
    checks.append(_guard("tor", lambda: _tor(paths, where)))
    return checks


def settings(where: Surroundings | None = None) -> list[tuple[str, str]]:
    """Each environment variable the server reads, and what of its value is safe to print."""
    environ = (where or Surroundings()).environ
    return [(v.name, environment.shown(v, environ)) for v in environment.VARIABLES]


def failed(checks: Iterable[Check]) -> bool:
    """Say whether any check failed."""
    return any(c.status is Status.FAIL for c in checks)


def _guard(name: str, check: Callable[[], Check]) -> Check:
    """Run one check; a check that breaks is a failure, and the others still run."""
    try:
        return check()
    except Exception as exc:
        return Check(name, Status.FAIL, f"could not be checked: {type(exc).__name__}: {exc}")


def _loose(path: Path) -> str | None:
    """Describe a path others may use; None if it is its owner's alone (or absent)."""
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return None
    if stat.S_ISLNK(mode):
        return f"{path.name} is a symbolic link"
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        return f"{path.name} ({stat.filemode(mode)})"
    return None


def _permissions(paths: InstancePaths, database: Path | None) -> Check:
    """Check that the instance directory, keys, store and SQLite database are owner-only."""
    missing = [p.name for p in (paths.secret_key, paths.signing_key) if not p.exists()]
    if missing:
        return Check("permissions", Status.FAIL, f"missing: {', '.join(missing)}")
    candidates = [
        paths.root,
        paths.config,
        paths.secret_key,
        paths.signing_key,
        paths.keyring,
        paths.store,
        paths.staging,
    ]
    tor_dir = paths.root / "tor"
    if tor_dir.is_dir():
        # The onion services' private keys: whoever reads them can impersonate them.
        candidates += [tor_dir, *sorted(tor_dir.glob("*.key"))]
    if paths.demo_keys.is_dir():
        candidates += [paths.demo_keys, *sorted(paths.demo_keys.glob("*.key"))]
    if database is not None:
        # The journal files copy the database's mode, but check them all the same.
        candidates += [database.with_name(database.name + s) for s in ("", "-wal", "-shm")]
    loose = [d for d in (_loose(p) for p in candidates) if d]
    if loose:
        return Check(
            "permissions",
            Status.FAIL,
            f"others may use {', '.join(loose)}: run `chmod go= FILE` on each",
        )
    return Check(
        "permissions",
        Status.OK,
        "the instance directory, its keys, its store and its database are owner-only",
    )


def _sqlite_file(url: str) -> Path | None:
    """Return the file of an SQLite database URL, or None for another database."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    return Path(parsed.database)


def _database_place(paths: InstancePaths, config: Config) -> Check:
    """Check that an SQLite database is this instance's own, named so that a copy uses its own.

    A copied or restored instance whose config names the original's database by
    its absolute path would change the original's rows while deleting files in
    its own store.
    """
    database = _sqlite_file(config.DATABASE_URL)
    if database is None:
        return Check(
            "database",
            Status.OK,
            "not SQLite: make sure no other instance (a copy, a restored backup) uses it",
        )
    try:
        database.resolve().relative_to(paths.root)
    except ValueError:
        return Check(
            "database",
            Status.FAIL,
            f"the SQLite database {database} lies outside this instance ({paths.root}): "
            "a copied or restored instance would change another instance's reports; "
            'set "database_url" in config.json to "sqlite:///raazdar.db" (its own copy)',
        )
    written = sqlite_path(load_config(paths).database_url)
    if written is not None and written.is_absolute():
        return Check(
            "database",
            Status.WARN,
            "config.json names the database by its absolute path: a copy of this instance "
            "would write into this one's database; run `raazdar migrate` to make it relative",
        )
    return Check("database", Status.OK, f"the database is this instance's own ({database.name})")


def _config(paths: InstancePaths) -> tuple[Config | None, Check]:
    """Read the configuration; a demo or test instance is never for real reports."""
    try:
        config = config_for(paths.root)
    except AppError as exc:
        return None, Check("mode", Status.FAIL, f"the instance cannot be read: {exc}")
    if config.DEMO:
        return config, Check(
            "mode",
            Status.WARN,
            "a demonstration instance: its reviewer keys lie in the instance directory, "
            "so anyone with it can read every report; never take real reports here",
        )
    if config.TESTING:
        return config, Check(
            "mode",
            Status.WARN,
            "a test-suite instance (fast key derivation): never take real reports here",
        )
    return config, Check("mode", Status.OK, "a production instance")


def _startup(config: Config, where: Surroundings) -> Check:
    """Check that the app factory accepts the configuration, and not in debug mode."""
    from app import create_app

    try:
        app = create_app(config)
    except AppError as exc:
        return Check("startup", Status.FAIL, f"the server refuses to start: {exc}")
    try:
        debug = app.debug
    finally:
        database: db.Database = app.extensions["raazdar.db"]
        if database.engine is not None:
            database.engine.dispose()
    flag = environment.get("FLASK_DEBUG", None, where.environ)
    if debug or (flag is not None and flag.strip().lower() not in _FALSE_WORDS):
        return Check(
            "startup",
            Status.FAIL,
            "debug mode is on: its error pages show code and data to anyone; unset FLASK_DEBUG",
        )
    if flag is not None:
        return Check("startup", Status.WARN, "FLASK_DEBUG is set (to off): unset it")
    return Check("startup", Status.OK, "the server accepts its configuration; debug mode is off")


def _keyring(paths: InstancePaths, today: dt.date) -> Check:
    """Check for a keyring in force, verified from the pinned authorities, not near expiry."""
    state = load_keyring(paths, today)
    if state.manifest is None:
        return Check(
            "keyring",
            Status.FAIL,
            f"no valid keyring ({state.problem}): no report can be taken; "
            "have the authorities sign a successor and run `raazdar keyring install FILE`",
        )
    manifest = state.manifest
    left = (manifest.expires - today).days
    summary = (
        f"version {manifest.version}, {len(manifest.recipients)} reviewer(s), "
        f"expires {manifest.expires.isoformat()} ({left} day(s) left)"
    )
    if left < EXPIRY_WARNING_DAYS:
        return Check(
            "keyring", Status.WARN, f"{summary}: have the authorities sign a successor now"
        )
    return Check("keyring", Status.OK, summary)


def _timestamp(paths: InstancePaths, today: dt.date) -> Check:
    """Check that a fresh signed timestamp vouches for the keyring, as `raazdar-submit` demands.

    The server cannot make one (it holds no timestamp key), so a lapsed one stays
    lapsed until an administrator installs the next: the clients refuse the
    keyring meanwhile (docs/PROTOCOL.md §8.8).
    """
    state = load_keyring(paths, today)
    manifest = state.manifest
    if manifest is None:
        return Check("timestamp", Status.FAIL, "no keyring in force for a timestamp to vouch for")
    if manifest.timestamp is None:
        return Check(
            "timestamp",
            Status.WARN,
            "a format-1 keyring names no timestamp key, and `raazdar-submit` refuses it: "
            "have the authorities sign a format-2 successor",
        )
    if (paths.demo_keys / TIMESTAMP_KEY_NAME).exists():
        return Check("timestamp", Status.OK, "a demo instance re-signs its own timestamp")
    stamp = fresh_timestamp(state, today)
    renew = (
        "make the next one on the workstation (`raazdar-review keys timestamp`) and "
        "install it here (`raazdar keyring timestamp FILE`)"
    )
    if stamp is None:
        lapsed = (
            f"expired on {state.timestamp.timestamp.expires.isoformat()}"
            if state.timestamp is not None and state.timestamp.timestamp.version == manifest.version
            else "is missing or vouches for another keyring version"
        )
        return Check(
            "timestamp",
            Status.FAIL,
            f"the keyring's freshness timestamp {lapsed}, so `raazdar-submit` refuses the "
            f"keyring: {renew}",
        )
    left = (stamp.expires - today).days
    summary = (
        f"the keyring's timestamp holds until {stamp.expires.isoformat()} ({left} day(s) left)"
    )
    if left < TIMESTAMP_WARNING_DAYS:
        return Check("timestamp", Status.WARN, f"{summary}: {renew} now")
    return Check("timestamp", Status.OK, summary)


def _database_checks(config: Config, today: dt.date, store: EnvelopeStore) -> list[Check]:
    """Run the checks that read the database, on an engine of their own."""
    try:
        engine = db.make_engine(config.DATABASE_URL)
    except Exception as exc:  # a bad URL is a finding, not a crash
        return [Check("database", Status.FAIL, f"cannot open the database: {exc}")]
    try:
        with Session(engine) as session:
            return [
                _guard("secure-delete", lambda: _secure_delete(session)),
                _guard("audit", lambda: _audit(session)),
                _guard("retention", lambda: _retention(session, today)),
                _guard("acknowledgement", lambda: _acknowledgement(session, today)),
                _guard("item-files", lambda: _item_files(session, store)),
                _guard("resources", lambda: _resources(session)),
            ]
    finally:
        engine.dispose()


def _resources(session: Session) -> Check:
    """Warn until an administrator has reviewed the legal-aid page for this instance."""
    reviewed = bool(get_setting(session, "resources_reviewed"))
    session.rollback()
    if reviewed:
        return Check("resources", Status.OK, "an administrator has reviewed the legal-aid page")
    return Check(
        "resources",
        Status.WARN,
        "the legal-aid page has not been reviewed: it shows generic guidance; add the "
        "contacts you can vouch for and mark it reviewed in the staff admin settings",
    )


def _secure_delete(session: Session) -> Check:
    """Check that SQLite overwrites deleted rows (PostgreSQL cannot be asked to)."""
    if session.get_bind().dialect.name != "sqlite":
        return Check(
            "secure-delete",
            Status.OK,
            "PostgreSQL has no secure_delete: deleted rows stay in its files until VACUUM "
            "reuses the space, and in its WAL and replicas; keep them on encrypted storage",
        )
    value = session.execute(text("PRAGMA secure_delete")).scalar()
    session.rollback()
    if value == 1:
        return Check("secure-delete", Status.OK, "SQLite overwrites deleted rows (secure_delete)")
    return Check(
        "secure-delete",
        Status.FAIL,
        f"SQLite secure_delete is {value!r}, not 1: deleted rows stay readable in the file",
    )


def _audit(session: Session) -> Check:
    """Check that the audit log's hash chain is whole."""
    result = audit.verify(session)
    session.rollback()
    if not result.ok:
        return Check("audit", Status.FAIL, f"the audit log was tampered with: {result.problem}")
    return Check("audit", Status.OK, f"the audit chain of {result.entries} entries verifies")


def _retention(session: Session, today: dt.date) -> Check:
    """Warn when retention is about to delete items nobody has exported."""
    count = retention.at_risk(session, today)
    policy = retention.Policy.read(session)
    session.rollback()
    if count:
        return Check(
            "retention",
            Status.WARN,
            f"{count} item(s) not yet exported reach the end of retention within "
            f"{retention.AT_RISK_DAYS} days (retention {policy.retention_days} days): "
            "export them now with `raazdar export` or the staff dashboard",
        )
    return Check(
        "retention",
        Status.OK,
        f"items are kept {policy.retention_days} days; none is near that unexported",
    )


def _acknowledgement(session: Session, today: dt.date) -> Check:
    """Warn of items exported long ago that the review workstation never acknowledged."""
    stale = retention.unacknowledged(session, today)
    kept = retention.past_retention(session, today)
    session.rollback()
    days = retention.UNACKNOWLEDGED_DAYS
    if not (stale or kept):
        return Check(
            "acknowledgement",
            Status.OK,
            f"no item exported {days} or more days ago waits for the workstation's acknowledgement",
        )
    parts = []
    if stale:
        parts.append(
            f"{stale} item(s) exported {days} or more days ago were never acknowledged "
            "by the review workstation: was an export bundle lost? `raazdar-review import` "
            "names missing bundles; `raazdar export --resend` sends every such item again"
        )
    if kept:
        parts.append(
            f"{kept} item(s) past retention are kept because they were never acknowledged: "
            "`raazdar purge --include-unacknowledged` deletes them, audited, if nobody needs them"
        )
    return Check("acknowledgement", Status.WARN, "; ".join(parts))


def _item_files(session: Session, store: EnvelopeStore) -> Check:
    """List the items whose envelope file is missing (lost in a crash): exports leave them out."""
    with store.steady():
        missing = [i for i in session.execute(select(Item.id)).scalars() if not store.exists(i)]
    session.rollback()
    if missing:
        return Check(
            "item-files",
            Status.FAIL,
            f"{len(missing)} item(s) have no envelope file, so exports leave them out: "
            f"{', '.join(sorted(missing))}; restore the files from a backup of the store, "
            "or ask the reviewers whether they have them already",
        )
    return Check("item-files", Status.OK, "every item has its envelope file")


def _staging(store: EnvelopeStore) -> Check:
    """Check that nothing waits in staging between requests."""
    left = store.leftovers(min_age=0)
    if left:
        return Check(
            "staging",
            Status.WARN,
            f"{len(left)} file(s) or folder(s) in staging: an upload in progress, or "
            "leftovers of a crash, which `raazdar purge` removes once they are a day old",
        )
    return Check("staging", Status.OK, "staging is empty")


def _filesystem(store: Path, mounts: Path) -> Check:
    """Say whether overwriting a deleted envelope reaches its old bytes on this filesystem."""
    kind = _filesystem_type(store, mounts)
    if kind is None:
        return Check("store", Status.OK, "could not tell the store's filesystem")
    if kind in COPY_ON_WRITE:
        return Check(
            "store",
            Status.WARN,
            f"the store is on {kind}, which writes to new blocks: deleting an envelope "
            "cannot overwrite its old bytes; use full-disk encryption and no snapshots",
        )
    return Check(
        "store",
        Status.OK,
        f"the store is on {kind}: deletions overwrite in place "
        "(an SSD may still keep old blocks: use full-disk encryption)",
    )


def _atime(root: Path, mounts: Path) -> Check:
    """Say whether reads leave their time on the instance's files (mount it with noatime)."""
    mount = _mount(root, mounts)
    if mount is None:
        return Check("atime", Status.OK, "could not tell how the instance directory is mounted")
    _kind, options = mount
    if "noatime" in options:
        return Check("atime", Status.OK, "the instance's filesystem is mounted noatime")
    mode = "strictatime" if "strictatime" in options else "relatime"
    return Check(
        "atime",
        Status.WARN,
        f"the instance's filesystem records access times ({mode}): the first read of a "
        "file after a change (an export, a source reading a reply) leaves its time; "
        "mount it with noatime",
    )


def _sweep(config: Config, store: EnvelopeStore, now: float) -> Check:
    """Warn when the arrival sweep has not run in its period, so arrivals keep finer stamps."""
    engine = db.make_engine(config.DATABASE_URL)
    try:
        every = sweep.period(engine)
    finally:
        engine.dispose()
    hours = int(every.total_seconds() // 3600)
    last = sweep.last_sweep(store)
    held = len(store.held())
    late = every + sweep.LATE_AFTER
    if last is None and held:
        return Check(
            "sweep",
            Status.WARN,
            f"{held} new envelope(s) wait and no arrival sweep has ever run: their files "
            "say when each arrived; enable raazdar-sweep.timer or run `raazdar sweep`",
        )
    if last is not None and now - last > late.total_seconds():
        return Check(
            "sweep",
            Status.WARN,
            f"the arrival sweep is overdue (period {hours} hour(s)), {held} envelope(s) wait: "
            "their files say when each arrived; check raazdar-sweep.timer or run `raazdar sweep`",
        )
    return Check(
        "sweep", Status.OK, f"the arrival sweep runs every {hours} hour(s); {held} waiting"
    )


def _filesystem_type(path: Path, mounts: Path) -> str | None:
    """Return the type of the filesystem `path` lies on, from a mounts table."""
    mount = _mount(path, mounts)
    return mount[0] if mount else None


def _mount(path: Path, mounts: Path) -> tuple[str, frozenset[str]] | None:
    """Return the type and options of the filesystem `path` lies on, from a mounts table."""
    try:
        lines = mounts.read_text("utf-8").splitlines()
    except OSError:
        return None
    target = str(path.resolve())
    best: tuple[int, str, frozenset[str]] | None = None
    for line in lines:
        fields = line.split()
        if len(fields) < 3:
            continue
        point = _unescape(fields[1])
        inside = target == point or target.startswith(point.rstrip("/") + "/")
        options = frozenset(fields[3].split(",")) if len(fields) > 3 else frozenset()
        # The longest mount point wins; a later mount over the same point hides earlier ones.
        if inside and (best is None or len(point) >= best[0]):
            best = (len(point), fields[2], options)
    return (best[1], best[2]) if best else None


def _unescape(field: str) -> str:
    """Undo the octal escapes (a space is `\\040`) of a mounts table."""
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def _gunicorn(where: Surroundings) -> Check:
    """Check that gunicorn keeps no access log, in its config file or its extra flags."""
    try:
        settings = runpy.run_path(str(where.gunicorn_conf))
    except SystemExit as exc:
        # The config refuses settings it forbids (a bind beyond loopback) by exiting.
        return Check("gunicorn", Status.FAIL, f"{where.gunicorn_conf} refuses to load: {exc}")
    if settings.get("accesslog") is not None:
        return Check(
            "gunicorn",
            Status.FAIL,
            f"{where.gunicorn_conf} sets an access log: it would record every request; "
            "set accesslog = None",
        )
    extra = shlex.split(environment.get("GUNICORN_CMD_ARGS", environ=where.environ))
    flags = [f for f in extra if f.split("=", 1)[0] in _ACCESS_LOG_FLAGS]
    if flags:
        return Check(
            "gunicorn",
            Status.FAIL,
            f"GUNICORN_CMD_ARGS adds {', '.join(flags)}: requests would be logged; remove it",
        )
    return Check("gunicorn", Status.OK, "no access log")


def tor_check(instance: Path, where: Surroundings | None = None) -> Check:
    """Report tor's health for `instance` (the staff dashboard shows it too)."""
    return _guard("tor", lambda: _tor(InstancePaths(instance), where or Surroundings()))


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
                _ask_tor(str(socket), explicit=True)
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
            return _ask_tor(str(socket), explicit=False)
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
