"""Configuration: production refuses to start with anything unsafe; every mode checks its key."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from app import config as config_module
from app import create_app
from app.config import DemoConfig, ProductionConfig, config_for
from app.errors import ConfigError, InstanceError
from app.instance import InstancePaths
from app.models import today
from crypto import PASSWORD_COST, KdfParams
from tests.app.support import remove_keyring


def test_a_production_instance_starts_with_everything_in_place(production: Path) -> None:
    config = config_for(production)
    assert isinstance(config, ProductionConfig)
    app = create_app(config)
    assert app.config["TESTING"] is False
    assert app.config["DEMO"] is False


def test_staff_passwords_take_the_real_cost_everywhere_but_a_testing_instance(
    production: Path, instance: Path
) -> None:
    # The test suite's instances (the testing derivation, refused by production) hash
    # staff passwords cheaply; a production instance never does.
    assert config_for(production).STAFF_PASSWORD_COST == PASSWORD_COST
    assert config_for(instance).STAFF_PASSWORD_COST == KdfParams.TESTING
    assert PASSWORD_COST != KdfParams.TESTING


def test_production_refuses_the_testing_kdf(production: Path) -> None:
    paths = InstancePaths(production)
    config = json.loads(paths.config.read_text())
    config["codename_kdf"] = KdfParams.TESTING.to_dict()
    paths.config.write_text(json.dumps(config))
    with pytest.raises(ConfigError, match="testing key-derivation"):
        create_app(config_for(production))


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_production_refuses_a_secret_key_others_can_read(production: Path, mode: int) -> None:
    InstancePaths(production).secret_key.chmod(mode)
    with pytest.raises(ConfigError, match="owner only"):
        create_app(config_for(production))


def test_production_refuses_to_start_without_a_keyring(production: Path) -> None:
    remove_keyring(production)
    with pytest.raises(ConfigError, match="no valid keyring"):
        create_app(config_for(production))


def test_production_refuses_to_start_with_an_expired_keyring(
    production: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(config_module, "today", lambda: today() + dt.timedelta(days=3650))
    with pytest.raises(ConfigError, match="expired"):
        create_app(config_for(production))


def test_production_refuses_to_start_without_a_database_url(production: Path) -> None:
    with pytest.raises(ConfigError, match="no database URL"):
        create_app(config_for(production, DATABASE_URL=""))


@pytest.mark.parametrize("secret", [b"", b"short", bytes(31)])
def test_production_refuses_a_short_secret_key(production: Path, secret: bytes) -> None:
    InstancePaths(production).secret_key.write_bytes(secret)
    with pytest.raises(ConfigError, match="at least 32 bytes"):
        create_app(config_for(production))


def test_a_demo_instance_refuses_a_short_secret_key(instance: Path) -> None:
    InstancePaths(instance).secret_key.write_bytes(bytes(31))
    with pytest.raises(ConfigError, match="at least 32 bytes"):
        create_app(config_for(instance))


def test_no_mode_starts_without_a_secret_key(instance: Path) -> None:
    InstancePaths(instance).secret_key.unlink()
    with pytest.raises(ConfigError, match="cannot read the secret key"):
        config_for(instance)


def test_config_for_a_directory_without_an_instance_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(InstanceError, match="raazdar init"):
        config_for(tmp_path)


@pytest.mark.parametrize(("mode", "kind"), [("demo", DemoConfig), ("production", ProductionConfig)])
def test_the_instance_mode_chooses_the_config(
    instance: Path, production: Path, mode: str, kind: type
) -> None:
    assert isinstance(config_for(instance if mode == "demo" else production), kind)


def test_an_unknown_mode_is_refused(production: Path) -> None:
    paths = InstancePaths(production)
    config = json.loads(paths.config.read_text())
    config["mode"] = "developer"
    paths.config.write_text(json.dumps(config))
    with pytest.raises(ConfigError, match="unknown instance mode"):
        config_for(production)


def test_the_environment_names_the_instance_and_may_move_its_database(
    instance: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAAZDAR_INSTANCE", str(instance))
    monkeypatch.setenv("RAAZDAR_DATABASE_URL", f"sqlite:///{tmp_path / 'elsewhere.db'}")
    config = config_for()
    assert instance.resolve() == config.INSTANCE_DIR
    assert f"sqlite:///{tmp_path / 'elsewhere.db'}" == config.DATABASE_URL


def test_a_demo_instance_turned_production_refuses_to_start(instance: Path) -> None:
    """`raazdar init --demo`, then "going live" by editing config.json: the keyring's
    authority keys and the reviewer's key were made on this server and lie in demo-keys/
    under the passphrase `demo`, so every report sent would be read by whoever holds it."""
    paths = InstancePaths(instance)
    assert paths.demo_keys.is_dir()
    settings = json.loads(paths.config.read_text())
    settings["mode"] = "production"
    settings["codename_kdf"] = KdfParams.INTERACTIVE.to_dict()
    paths.config.write_text(json.dumps(settings))
    config = config_for(instance)
    assert isinstance(config, ProductionConfig)
    refused: ConfigError | None = None
    try:
        create_app(config)
    except ConfigError as exc:
        refused = exc
    assert refused is not None, "a production instance starts with the demo's keys beside it"
    assert "demo-keys" in str(refused)


def test_a_database_password_in_the_environment_is_refused(
    instance: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """systemd prints a unit's `Environment=` to every user (`systemctl show raazdar`), and
    the process environment of each worker goes wherever a crash report or `ps e` takes it;
    the password opens the database (the staff accounts, the sources' rows)."""
    secret = "s3cret-Pg-passw0rd"
    monkeypatch.setenv("RAAZDAR_DATABASE_URL", f"postgresql+psycopg://raazdar:{secret}@db/raazdar")
    with pytest.raises(ConfigError, match="RAAZDAR_DATABASE_URL holds a password") as refused:
        config_for(instance)
    assert secret not in str(refused.value)
    assert refused.value.hint is not None
    assert ".pgpass" in refused.value.hint
