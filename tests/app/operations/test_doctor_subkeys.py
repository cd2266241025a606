"""`raazdar doctor` on weekly subkeys: fail when a reviewer has none for this week, warn ahead."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask

from app.cli import main
from app.db import db_session
from app.errors import KeyringUnavailable
from app.instance import InstancePaths
from app.models import ExportHead, today
from app.operations.doctor import Status, diagnose
from app.operations.doctor.subkeys import subkeys_check
from app.services.context import services
from app.subkeys import list_path, subkeys_dir
from crypto.constants import SUBKEYS_WARN_DAYS
from crypto.subkeys import Period
from tests.app.subkeys_support import publish, without_lists
from tests.app.test_subkeys import bound_list, context_manifest

THIS_WEEK = Period.of(today())


@pytest.fixture
def hybrid(instance: Path) -> Path:
    """The demo instance, its keyring of hybrid reviewers (format 3), without a subkey list."""
    return without_lists(instance)


@pytest.mark.keyring_format(2)
def test_a_keyring_without_hybrid_reviewers_is_ok_and_says_it_is_not_forward_secret(
    instance: Path,
) -> None:
    check = subkeys_check(InstancePaths(instance), today())
    assert check.status is Status.OK
    assert "not forward-secret" in check.message


def test_the_demo_instance_installs_a_list_and_is_ok(instance: Path) -> None:
    check = subkeys_check(InstancePaths(instance), today())
    assert check.status is Status.OK, check.message


def test_a_hybrid_keyring_without_lists_fails(hybrid: Path) -> None:
    (check,) = [c for c in diagnose(hybrid, today()) if c.name == "subkeys"]
    assert check.status is Status.FAIL
    assert "no report can be taken" in check.message
    assert "raazdar keyring subkeys install" in check.message


def test_an_expired_list_fails(hybrid: Path, runner: CliRunner) -> None:
    publish(runner, hybrid, THIS_WEEK, count=1)
    check = subkeys_check(InstancePaths(hybrid), THIS_WEEK.after().first_day)
    assert check.status is Status.FAIL
    assert "expired" in check.message


def test_a_list_with_weeks_to_spare_is_ok(hybrid: Path, runner: CliRunner) -> None:
    publish(runner, hybrid, THIS_WEEK, count=8)
    check = subkeys_check(InstancePaths(hybrid), today())
    assert check.status is Status.OK
    left = (THIS_WEEK.after(7).last_day - today()).days + 1
    assert f"{left} more day(s)" in check.message


def test_the_warning_starts_when_fewer_than_14_days_are_left(
    hybrid: Path, runner: CliRunner
) -> None:
    publish(runner, hybrid, THIS_WEEK, count=3)
    end = THIS_WEEK.after(2).last_day
    last_quiet = end - dt.timedelta(days=SUBKEYS_WARN_DAYS - 1)
    assert subkeys_check(InstancePaths(hybrid), last_quiet).status is Status.OK
    check = subkeys_check(InstancePaths(hybrid), last_quiet + dt.timedelta(days=1))
    assert check.status is Status.WARN
    assert "run out in 13 day(s)" in check.message


def test_a_list_for_another_instance_put_on_disk_fails(hybrid: Path, app: Flask) -> None:
    # The browser path refuses it (503); doctor must not call the instance healthy.
    paths = InstancePaths(hybrid)
    subkeys_dir(paths).mkdir(mode=0o700)
    (recipient,) = context_manifest(app).recipients
    list_path(paths, recipient.id).write_bytes(bound_list(hybrid, "f" * 32).to_bytes())
    check = subkeys_check(paths, today())
    assert check.status is Status.FAIL, f"doctor said {check.status}: {check.message}"
    assert "another instance" in check.message


def _exported_on(app: Flask, day: dt.date) -> None:
    """The latest export was dated `day` (a clock that ran ahead, since set back)."""
    with app.app_context():
        session = db_session()
        session.merge(ExportHead(id=1, sequence=1, digest=bytes(32), day=day))
        session.commit()


def test_doctor_fails_when_the_week_reports_are_sealed_to_has_no_subkey(
    hybrid: Path, runner: CliRunner, app: Flask
) -> None:
    """The clock ran ahead for an export two weeks on, then was set back: the server seals
    to that week (rule D2), for which the list has no subkey, and takes no report."""
    publish(runner, hybrid, THIS_WEEK, count=2)
    _exported_on(app, THIS_WEEK.after(2).first_day)
    with app.app_context(), pytest.raises(KeyringUnavailable):
        services().recipients()
    (check,) = [c for c in diagnose(hybrid, today()) if c.name == "subkeys"]
    assert check.status is Status.FAIL, f"doctor said {check.status}: {check.message}"
    assert "the latest export's day" in check.message


def test_doctor_is_ok_when_the_week_reports_are_sealed_to_has_its_subkey(
    hybrid: Path, runner: CliRunner, app: Flask
) -> None:
    """The reverse: the list starts at the latest export's week, which is the one sealed to."""
    ahead = THIS_WEEK.after(1)
    publish(runner, hybrid, ahead, count=4)
    _exported_on(app, ahead.first_day)
    with app.app_context():
        assert services().recipients()
    (check,) = [c for c in diagnose(hybrid, today()) if c.name == "subkeys"]
    assert check.status is Status.OK, f"doctor said {check.status}: {check.message}"
    left = (ahead.after(3).last_day - ahead.first_day).days + 1
    assert f"{left} more day(s)" in check.message


def test_keyring_show_counts_the_days_of_the_week_sealed_to(
    hybrid: Path, runner: CliRunner, app: Flask
) -> None:
    """As doctor: `keyring show` said days were left while no report could be sealed."""
    publish(runner, hybrid, THIS_WEEK, count=2)
    _exported_on(app, THIS_WEEK.after(2).first_day)
    result = runner.invoke(main, ["--instance", str(hybrid), "keyring", "show"])
    assert result.exit_code == 0, result.output
    assert f"{THIS_WEEK} to {THIS_WEEK.after()} (expired" in result.output, result.output
    assert "raazdar: warning: no report can be taken once" in result.output
