"""The instance's files and settings: permissions, config, start-up, keyring, gunicorn."""

from __future__ import annotations

import datetime as dt
import runpy
import shlex
import stat
from pathlib import Path
from typing import Final

from sqlalchemy.engine import make_url

from app import db, environment
from app.commit_times import refuse_dated_commits
from app.config import Config, config_for
from app.demo import TIMESTAMP_KEY_NAME
from app.errors import AppError
from app.files import names
from app.instance import InstancePaths, load_config, sqlite_path
from app.keyring import fresh_timestamp, load_keyring
from app.migrate import refuse_other_schema
from app.operations.doctor.verdict import Check, Status, Surroundings
from app.operations.keyring_admin import EXPIRY_WARNING_DAYS, TIMESTAMP_WARNING_DAYS
from app.subkeys import read_lists

# gunicorn reads extra flags from this variable; any of these would log requests.
_ACCESS_LOG_FLAGS: Final = ("--access-logfile", "--access-logformat", "--log-config")


_FALSE_WORDS: Final = frozenset({"", "0", "false", "no", "off"})
# How many loose files `permissions` names (a restore may have loosened thousands).
_SHOWN: Final = 12


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


def _linked(path: Path) -> str | None:
    """Describe a symbolic link where a key or directory should be; None otherwise."""
    return f"{path.name} is a symbolic link" if path.is_symlink() else None


def _loose_within(root: Path) -> list[str]:
    """Every file and directory under `root` others may use, by path from `root`.

    Listed without moving any directory's access time (`app.files.names`); a
    symbolic link's own mode means nothing (the listed keys are checked apart).
    """
    loose = []
    pending = [Path()]
    while pending:
        relative = pending.pop()
        for entry in names(root / relative):
            mode = entry.info.st_mode
            if stat.S_ISLNK(mode):
                continue
            if mode & (stat.S_IRWXG | stat.S_IRWXO):
                loose.append(f"{relative / entry.name} ({stat.filemode(mode)})")
            if stat.S_ISDIR(mode):
                pending.append(relative / entry.name)
    return sorted(loose)


def permissions_check(paths: InstancePaths, database: Path | None) -> Check:
    """Check that the instance directory and everything in it (keys, store, database) are
    owner-only: a restore, or a hand's `chmod`, may have loosened any of them."""
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
    # Inside the instance the walk finds loose modes; the list adds links, and what lies
    # outside (a database elsewhere).
    walked = {p for p in candidates if paths.root in p.parents}
    loose = [d for p in candidates if (d := _linked(p) if p in walked else _loose(p))]
    loose += _loose_within(paths.root)
    if loose:
        more = f" and {len(loose) - _SHOWN} more" if len(loose) > _SHOWN else ""
        return Check(
            "permissions",
            Status.FAIL,
            f"others may use {', '.join(loose[:_SHOWN])}{more}: run `chmod go= FILE` on each "
            "(`chmod -R go= DIR` for all)",
        )
    return Check(
        "permissions",
        Status.OK,
        "the instance directory, its keys, its store and its database are owner-only",
    )


def sqlite_file(url: str) -> Path | None:
    """Return the file of an SQLite database URL, or None for another database."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    return Path(parsed.database)


def database_check(paths: InstancePaths, config: Config) -> Check:
    """Check that an SQLite database is this instance's own, named so that a copy uses its own.

    A copied or restored instance whose config names the original's database by
    its absolute path would change the original's rows while deleting files in
    its own store.
    """
    database = sqlite_file(config.DATABASE_URL)
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


def config_check(paths: InstancePaths) -> tuple[Config | None, Check]:
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


def startup_check(config: Config, where: Surroundings) -> Check:
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
    try:
        refuse_other_schema(config.DATABASE_URL)
        refuse_dated_commits(config.DATABASE_URL)
    except AppError as exc:
        return Check("startup", Status.FAIL, f"the server refuses to start: {exc}; {exc.hint}")
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


def keyring_check(
    paths: InstancePaths, today: dt.date, installed: int | None = None, problem: str | None = None
) -> Check:
    """Check for a keyring in force, verified from the pinned authorities, not near expiry.

    `installed` is the newest version the database records installed (`load_keyring`);
    `problem`, why the database cannot say it (a broken audit chain): the server then
    seals nothing, whatever the files say.
    """
    if problem is not None:
        return Check("keyring", Status.FAIL, f"no keyring is in force: {problem}")
    state = load_keyring(paths, today, installed)
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


def timestamp_check(paths: InstancePaths, today: dt.date, installed: int | None = None) -> Check:
    """Check that a fresh signed timestamp vouches for the keyring, as `raazdar-submit` demands.

    The server cannot make one (it holds no timestamp key), so a lapsed one stays
    lapsed until an administrator installs the next: the clients refuse the
    keyring meanwhile, and the server seals no browser report (docs/PROTOCOL.md §8.8).
    """
    state = load_keyring(paths, today, installed)
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
            f"keyring and no browser report is sealed: {renew}",
        )
    installed_lists = read_lists(paths)
    for rid, floor in stamp.subkeys:
        listed = installed_lists.get(rid)
        number = listed.subkeys.sequence if listed is not None else None
        if number is None or number < floor:
            has = (
                "no list"
                if listed is None
                else "an unnumbered list"
                if number is None
                else f"list {number}"
            )
            return Check(
                "timestamp",
                Status.FAIL,
                f"the keyring's timestamp says reviewer {rid}'s subkey list {floor} or later "
                f"is in force, and {has} of theirs is installed here, so `raazdar-submit` "
                "refuses to seal any report: install that list (`raazdar keyring subkeys "
                "install FILE…`), or a timestamp naming the list installed",
            )
    left = (stamp.expires - today).days
    summary = (
        f"the keyring's timestamp holds until {stamp.expires.isoformat()} ({left} day(s) left)"
    )
    if left < TIMESTAMP_WARNING_DAYS:
        return Check("timestamp", Status.WARN, f"{summary}: {renew} now")
    return Check("timestamp", Status.OK, summary)


def gunicorn_check(where: Surroundings) -> Check:
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
