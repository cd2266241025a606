"""Configuration classes handed to the factory; production fails closed."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any, ClassVar

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from app import environment
from app.db import make_engine
from app.errors import ConfigError, KeyringUnavailable, PasswordInEnvironment
from app.instance import (
    InstancePaths,
    load_config,
    refuse_cut_off_rotation,
    refuse_unfinished_restore,
    url_has_password,
)
from app.keyring import load_keyring
from app.models import today
from app.noatime import read_quietly
from app.services.audit import newest_keyring
from crypto import PASSWORD_COST, KdfParams


def default_instance() -> Path:
    """Where `raazdar` and the app look without --instance or RAAZDAR_INSTANCE.

    In a source checkout (pyproject.toml beside the packages): its instance/, where
    deploy/demo.sh and the README put the demo. Installed from a wheel the package
    sits in site-packages, no place for data: instance/ in the working directory.
    A server sets RAAZDAR_INSTANCE (/var/lib/raazdar, deploy/systemd).
    """
    checkout = Path(__file__).resolve().parent.parent
    if (checkout / "pyproject.toml").is_file():
        return checkout / "instance"
    return Path("instance")


DEFAULT_INSTANCE = default_instance()


class Config:
    """Settings shared by every mode, read from an instance directory."""

    TESTING = False
    DEMO = False
    LANGUAGES: ClassVar[tuple[str, ...]] = ("ur", "en")
    BABEL_DEFAULT_LOCALE = "ur"
    BABEL_TRANSLATION_DIRECTORIES = str(Path(__file__).parent / "translations")
    SESSION_IDLE_SECONDS = 30 * 60
    SESSION_COOKIE_NAME = "rz"
    # Over an onion service the transport is already end-to-end encrypted and
    # there is no HTTPS; Tor Browser treats .onion as a secure context.
    SESSION_COOKIE_SECURE = False
    # Messages are held in memory only, never spooled: this bounds them.
    MAX_FORM_MEMORY_SIZE = 1024 * 1024
    MAX_FORM_PARTS = 64
    MAX_FILES = 20
    # A reply bundle from the review workstation (staff only).
    MAX_BUNDLE_BYTES = 2 * 1024**3
    # Sources: no failure is counted (nobody can be locked out); the work is
    # bounded instead: at most KDF_SLOTS Argon2id derivations at once on this
    # host, across every worker, each waiting at most KDF_WAIT_SECONDS for a slot,
    # and at most KDF_QUEUE requests waiting (more are told "busy" at once).
    KDF_WAIT_SECONDS = 10.0
    # A source's session ends this long after login however active it is (as
    # SecureDrop's), as well as after SESSION_IDLE_SECONDS without a page.
    SOURCE_SESSION_MAX_SECONDS = 120 * 60
    # Every account page opens and draws this many replies, stand-ins for those an
    # account lacks: up to it, its time says nothing of how many wait, nor (the page
    # after a login) whether the codename opened an account (docs/PROTOCOL.md §7.3.2).
    SOURCE_REPLIES_WEIGHED = 24
    # Staff: a session ends after this long however active it is; failed logins
    # per account are throttled in the database.
    STAFF_SESSION_MAX_SECONDS = 8 * 60 * 60
    # An administrator's change needs the password and a code given this recently
    # (at the login, or again on the page that asks): a session left open is not enough.
    STAFF_REAUTH_SECONDS = 10 * 60
    STAFF_LOGIN_FAILURES = 5
    STAFF_LOGIN_WINDOW_SECONDS = 15 * 60
    # And per day: a window's limit, window after window, was 480 guesses a day.
    STAFF_LOGIN_DAILY_FAILURES = 20
    # Tokens live as long as the session: a slow upload over Tor must not
    # outlive its CSRF token.
    WTF_CSRF_TIME_LIMIT = None
    # WTForms' own messages in English, from memory. Its catalogs have no Urdu, and
    # Flask-WTF would read one from the code's files on each request that shows such
    # a message, leaving that time in the file's access time (app/preload.py).
    WTF_I18N_ENABLED = False
    # An administrator's command (`app.cli.base.app_context`), not a server: it may run on
    # an instance whose restore is not finished, since finishing it takes such commands
    # (a keyring installed again, an account removed again: deploy/README.md §1.7).
    ADMINISTERING = False

    def __init__(self, instance_dir: Path, **overrides: Any) -> None:
        paths = InstancePaths(instance_dir.resolve())
        instance = load_config(paths)
        self.INSTANCE_DIR = paths.root
        self.INSTANCE_ID = instance.instance_id
        from_environment = environment.get("RAAZDAR_DATABASE_URL")
        if from_environment and url_has_password(from_environment):
            raise PasswordInEnvironment(
                "RAAZDAR_DATABASE_URL holds a password: `systemctl show` prints a unit's "
                "environment to every user of the machine"
            )
        self.DATABASE_URL = from_environment or instance.database_url_in(paths.root)
        self.CODENAME_SALT = instance.salt
        self.CODENAME_KDF = instance.kdf
        # Staff passwords at libsodium's interactive cost; at the testing one only on an
        # instance made with the testing derivation, which production refuses below.
        self.STAFF_PASSWORD_COST = KdfParams.TESTING if instance.kdf.is_testing else PASSWORD_COST
        # The listeners (gunicorn binds) on which the staff pages answer.
        self.STAFF_BINDS = staff_binds()
        try:
            self.SECRET_KEY = read_quietly(paths.secret_key)
        except OSError as exc:
            raise ConfigError(f"cannot read the secret key: {exc}") from exc
        self.KDF_SLOTS = kdf_slots()
        self.KDF_QUEUE = _count("RAAZDAR_KDF_QUEUE", QUEUE_PER_SLOT * self.KDF_SLOTS)
        for name, value in overrides.items():
            setattr(self, name, value)

    def validate(self) -> None:
        """Refuse to start with settings that are unsafe for this mode."""
        if len(self.SECRET_KEY) < 32:
            raise ConfigError("the secret key must be at least 32 bytes")
        if not self.ADMINISTERING:
            refuse_unfinished_restore(InstancePaths(self.INSTANCE_DIR))
            refuse_cut_off_rotation(InstancePaths(self.INSTANCE_DIR))


# Waiting places per derivation slot (RAAZDAR_KDF_QUEUE overrides the total). A
# derivation takes 0.3-1 s, and `app.kdf_pool` also turns away at once whoever
# the recent pace says would not be served within the wait; 24 per slot let 50
# web sources at once all in on the 2-core test machine (tests/bench/load.py),
# and leave a quarter of the default 64 threads to pages.
QUEUE_PER_SLOT = 24


def staff_binds() -> tuple[str, ...]:
    """The listeners (gunicorn binds) on which the staff pages answer: RAAZDAR_STAFF_BIND."""
    return tuple(b.strip() for b in environment.get("RAAZDAR_STAFF_BIND").split(",") if b.strip())


def tor_circuits() -> bool:
    """Whether tor writes the circuit of each connection to the source listeners first.

    RAAZDAR_TOR_CIRCUITS=1, set by `raazdar serve` for the tor it starts (which
    publishes the source onion with HiddenServiceExportCircuitID haproxy), or by
    the operator whose torrc declares the onion so. Then a connection to a
    source listener that does not start with tor's line is closed unanswered:
    nobody but tor can say which circuit a request came on.
    """
    raw = environment.get("RAAZDAR_TOR_CIRCUITS")
    if raw not in ("", "0", "1"):
        raise ConfigError(f"RAAZDAR_TOR_CIRCUITS must be 0 or 1, not {raw!r}")
    return raw == "1"


def tor_staff_circuits() -> bool:
    """Whether tor writes the circuit of each connection to the staff listeners first.

    RAAZDAR_TOR_STAFF_CIRCUITS=1, set by the operator whose torrc declares the
    staff onion with HiddenServiceExportCircuitID haproxy. Then the staff's
    password checks take turns by circuit (`kdf_pool.staff_slot`), and a
    connection to a staff listener that does not start with tor's line is
    closed unanswered: whoever holds a staff device's key must not name
    circuits of their own.
    """
    raw = environment.get("RAAZDAR_TOR_STAFF_CIRCUITS")
    if raw not in ("", "0", "1"):
        raise ConfigError(f"RAAZDAR_TOR_STAFF_CIRCUITS must be 0 or 1, not {raw!r}")
    return raw == "1"


def kdf_slots() -> int:
    """Derivation slots: RAAZDAR_KDF_SLOTS, or one per core this process may use."""
    return _count("RAAZDAR_KDF_SLOTS", max(1, len(os.sched_getaffinity(0))))


def _count(name: str, default: int) -> int:
    """A positive whole number from the environment variable `name`, else `default`."""
    raw = environment.get(name)
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise ConfigError(f"{name} must be a positive whole number, not {raw!r}")
    return int(raw)


class DemoConfig(Config):
    """A demonstration instance: demo keys, loudly labelled."""

    DEMO = True


class TestingConfig(Config):
    """The test suite's settings. Fast key derivation is refused only in production: a
    test instance and a demo made with `raazdar init --demo --fast-kdf` may use it."""

    TESTING = True
    # Two, not a real instance's 24: the suite loads account pages by the thousand, and
    # the tests that time them ask for the real number (test_login_timing.py).
    SOURCE_REPLIES_WEIGHED = 2


class ProductionConfig(Config):
    """A real instance: every secret present and private, a valid keyring, slow KDF."""

    def validate(self) -> None:
        """Fail closed: no insecure fallback for anything."""
        super().validate()
        paths = InstancePaths(self.INSTANCE_DIR)
        if paths.demo_keys.exists():
            # A demo's authority and reviewer keys were made here: the keyring they
            # signed is not the authorities', and whoever holds this disk opens the reports.
            raise ConfigError(
                f"{paths.demo_keys} holds a demonstration's keys: this instance was made "
                "with `raazdar init --demo` and can never take real reports; make a real "
                "one with `raazdar init --manifest FILE` in a new directory"
            )
        mode = paths.secret_key.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise ConfigError("the secret key file must be readable by its owner only")
        if not self.DATABASE_URL:
            raise ConfigError("no database URL")
        if isinstance(self.CODENAME_KDF, KdfParams) and self.CODENAME_KDF.is_testing:
            raise ConfigError("the testing key-derivation settings are not allowed in production")
        state = load_keyring(paths, today(), _installed_keyring(self.DATABASE_URL))
        if state.manifest is None:
            raise ConfigError(f"no valid keyring: {state.problem}")


def _installed_keyring(url: str) -> int | None:
    """The newest keyring version the audit log records installed (`load_keyring`).

    None when the database cannot tell yet (not migrated, or unreachable): the
    running server reads it again with every change of the keyring's files.
    """
    try:
        engine = make_engine(url)
    except (SQLAlchemyError, ValueError):
        return None
    try:
        with Session(engine) as session:
            return newest_keyring(session)
    except SQLAlchemyError:
        return None
    except KeyringUnavailable as exc:  # the chain is broken: no record to trust
        raise ConfigError(f"no valid keyring: {exc}") from exc
    finally:
        engine.dispose()


def config_for(instance_dir: Path | None = None, **overrides: Any) -> Config:
    """Build the config class an instance's mode calls for."""
    root = instance_dir or Path(environment.get("RAAZDAR_INSTANCE", str(DEFAULT_INSTANCE)))
    mode = load_config(InstancePaths(root.resolve())).mode
    classes: dict[str, type[Config]] = {
        "production": ProductionConfig,
        "demo": DemoConfig,
        "testing": TestingConfig,
    }
    if mode not in classes:
        raise ConfigError(f"unknown instance mode {mode!r}")
    return classes[mode](root, **overrides)
