"""A reviewer re-keys weeks whose subkey was compromised, the same day: the server takes the
new list on the installer's word, and never the compromised one again."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import delete
from sqlalchemy.exc import ProgrammingError

from app.errors import KeyringUnavailable
from app.instance import InstancePaths
from app.models import AuditEntry, today
from app.services import audit
from app.services.context import services
from app.subkeys import list_path, read_lists, subkeys_dir, superseded_path
from crypto.subkeys import Period, SignedSubkeyList
from tests.app.subkeys_support import install, publish, signed_list, without_lists
from tests.app.support import Visitor, db_session
from tests.app.test_subkeys import context_manifest, send_report

THIS_WEEK = Period.of(today())


@pytest.fixture
def hybrid(instance: Path) -> Path:
    """The demo instance, its keyring of hybrid reviewers (format 3), without a subkey list."""
    return without_lists(instance)


def _compromised_then_rekeyed(hybrid: Path, runner: CliRunner) -> tuple[SignedSubkeyList, ...]:
    """The installed list (whose keys leaked) and the same day's re-issue with new keys."""
    _, leaked = signed_list(hybrid, THIS_WEEK)
    assert install(runner, hybrid, leaked).exit_code == 0
    _, rekeyed = signed_list(hybrid, THIS_WEEK)
    assert rekeyed.subkeys.issued == leaked.subkeys.issued
    return leaked, rekeyed


def test_a_reviewer_replaces_a_compromised_weeks_subkey_the_same_day(
    hybrid: Path, app: Flask, runner: CliRunner
) -> None:
    """The week's subkey leaked (a stolen store backup): the reviewer re-keys it today. Every
    re-issue was refused as `disagrees`, so reports went on being sealed to the thief's key."""
    leaked, rekeyed = _compromised_then_rekeyed(hybrid, runner)
    refused = install(runner, hybrid, rekeyed)
    assert refused.exit_code == 1
    assert "disagrees" in refused.output
    assert "--rekeyed" in refused.output

    result = install(runner, hybrid, rekeyed, flags=("--rekeyed",))
    assert result.exit_code == 0, f"the re-keyed list was refused: {result.output}"
    assert f"new keys for {THIS_WEEK}" in result.output
    with app.app_context():
        (key,) = services().recipients()
    assert key == rekeyed.subkeys.key_for(THIS_WEEK)
    assert key != leaked.subkeys.key_for(THIS_WEEK)


@pytest.mark.parametrize("flags", [(), ("--rekeyed",)])
def test_the_compromised_list_replayed_the_same_day_is_refused(
    hybrid: Path, app: Flask, runner: CliRunner, flags: tuple[str, ...]
) -> None:
    leaked, rekeyed = _compromised_then_rekeyed(hybrid, runner)
    assert install(runner, hybrid, rekeyed, flags=("--rekeyed",)).exit_code == 0
    replayed = install(runner, hybrid, leaked, flags=flags)
    assert replayed.exit_code == 1
    assert "superseded" in replayed.output or "disagrees" in replayed.output
    (recipient,) = context_manifest(app).recipients
    assert read_lists(InstancePaths(hybrid))[recipient.id] == rekeyed


def test_a_replaced_key_stays_refused_once_the_list_moves_on(
    hybrid: Path, app: Flask, runner: CliRunner
) -> None:
    """The replaced keys are remembered, not just compared with the list installed now."""
    secrets, leaked = signed_list(hybrid, THIS_WEEK)
    assert install(runner, hybrid, leaked).exit_code == 0
    _, rekeyed = signed_list(hybrid, THIS_WEEK, count=2)
    assert install(runner, hybrid, rekeyed, flags=("--rekeyed",)).exit_code == 0
    _, later = signed_list(hybrid, THIS_WEEK.after(2), count=4, secrets=secrets)
    again = install(runner, hybrid, later)
    assert again.exit_code == 0, again.output  # no week shared with the installed list
    result = install(runner, hybrid, leaked, flags=("--rekeyed",))
    assert result.exit_code == 1
    assert "superseded" in result.output
    paths = InstancePaths(hybrid)
    (recipient,) = context_manifest(app).recipients
    assert stat.S_IMODE(superseded_path(paths, recipient.id).stat().st_mode) == 0o600
    assert sorted(p.name for p in subkeys_dir(paths).iterdir()) == sorted(
        [list_path(paths, recipient.id).name, superseded_path(paths, recipient.id).name]
    )


def test_a_rekeyed_list_issued_before_the_installed_one_is_still_older(
    hybrid: Path, runner: CliRunner
) -> None:
    publish(runner, hybrid, THIS_WEEK)
    _, earlier = signed_list(hybrid, THIS_WEEK.after(-1), count=3)
    assert earlier.subkeys.issued < today()
    result = install(runner, hybrid, earlier, flags=("--rekeyed",))
    assert result.exit_code == 1
    assert "older" in result.output


def test_the_compromised_list_put_back_on_disk_seals_nothing(
    hybrid: Path, app: Flask, runner: CliRunner
) -> None:
    """Whoever holds the leaked store and can write the server's disk puts the compromised
    list file back, and the record of the replaced keys beside it away: browser reports
    were sealed to keys the thief holds."""
    leaked, rekeyed = _compromised_then_rekeyed(hybrid, runner)
    assert install(runner, hybrid, rekeyed, flags=("--rekeyed",)).exit_code == 0
    assert send_report(_source(app)) == 200
    paths = InstancePaths(hybrid)
    (recipient,) = context_manifest(app).recipients
    list_path(paths, recipient.id).write_bytes(leaked.to_bytes())
    superseded_path(paths, recipient.id).unlink()

    assert send_report(_source(app)) == 503, "a report was sealed to a replaced (leaked) subkey"
    with app.app_context(), pytest.raises(KeyringUnavailable, match="replaced"):
        services().recipients()
    # Nor is it installed again, file or no file.
    result = install(runner, hybrid, leaked, flags=("--rekeyed",))
    assert result.exit_code == 1
    assert "superseded" in result.output
    back = install(runner, hybrid, rekeyed, flags=("--rekeyed",))
    assert back.exit_code == 0, back.output
    assert send_report(_source(app)) == 200


def _source(app: Flask) -> Visitor:
    """A new source's browser (one report each: the form after a first one is another)."""
    visitor = Visitor(app.test_client())
    visitor.client.get("/lang/en")
    return visitor


def test_replaced_subkeys_the_audit_log_cannot_tell_seal_nothing(
    hybrid: Path, app: Flask, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The compromised list put back while the audit log cannot be read (a permission taken
    back): nothing is sealed, the refusal is the keyring's 503 with its reason (not a 500
    logged as the server's own error), and it lifts once the log is read again."""
    leaked, rekeyed = _compromised_then_rekeyed(hybrid, runner)
    assert install(runner, hybrid, rekeyed, flags=("--rekeyed",)).exit_code == 0
    paths = InstancePaths(hybrid)
    (recipient,) = context_manifest(app).recipients
    list_path(paths, recipient.id).write_bytes(leaked.to_bytes())
    superseded_path(paths, recipient.id).unlink()

    def unreadable(*_: object) -> frozenset[bytes]:
        raise ProgrammingError(
            "SELECT detail FROM audit_log", {}, Exception("permission denied for table audit_log")
        )

    with monkeypatch.context() as blip:
        blip.setattr(audit, "superseded_subkeys", unreadable)
        with app.app_context(), pytest.raises(KeyringUnavailable, match="could not be read"):
            services().recipients()
        assert send_report(_source(app)) == 503
    assert send_report(_source(app)) == 503, "the leaked list was taken once the log answered"
    assert install(runner, hybrid, rekeyed, flags=("--rekeyed",)).exit_code == 0
    assert send_report(_source(app)) == 200


def test_the_compromised_list_put_back_with_its_audit_entry_taken_out_seals_nothing(
    hybrid: Path, app: Flask, runner: CliRunner
) -> None:
    """As above, and the audit entry that records the replaced keys is deleted too, alone,
    the chain left unmended: until something walked the chain, browser reports were sealed
    to keys the thief holds."""
    leaked, rekeyed = _compromised_then_rekeyed(hybrid, runner)
    assert install(runner, hybrid, rekeyed, flags=("--rekeyed",)).exit_code == 0
    paths = InstancePaths(hybrid)
    (recipient,) = context_manifest(app).recipients
    list_path(paths, recipient.id).write_bytes(leaked.to_bytes())
    superseded_path(paths, recipient.id).unlink()
    with db_session(app) as session:
        session.execute(
            delete(AuditEntry).where(
                AuditEntry.action == audit.SUBKEYS_INSTALLED, AuditEntry.detail.contains("replaced")
            )
        )
        session.commit()

    assert send_report(_source(app)) == 503, "a report was sealed to a replaced (leaked) subkey"
