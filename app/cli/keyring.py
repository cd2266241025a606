"""`raazdar keyring show|install|timestamp|instance-info`: the keyring in force and its upkeep."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from app.cli.base import app_context, fail, main, open_carried, reports_errors


@main.group()
def keyring() -> None:
    """Show the keyring in force, or install a successor the authorities signed."""


@keyring.command()
@click.pass_obj
@reports_errors
def show(instance: Path) -> None:
    """Print the manifest in force: version, dates, threshold, authorities and reviewers."""
    from app.operations.keyring_admin import describe

    with app_context(instance):
        info = describe()
    for fp in info.pinned:
        click.echo(f"pinned authority  {fp}")
    current = info.in_force
    if current is None:
        fail(
            f"no valid keyring is in force: {info.problem}",
            "install a successor signed by the authorities: raazdar keyring install FILE",
        )
    click.echo(f"version           {current.version}")
    click.echo(f"issued            {current.issued.isoformat()}")
    click.echo(f"expires           {current.expires.isoformat()} ({info.days_left} day(s) left)")
    click.echo(f"threshold         {current.threshold} of {len(current.authorities)}")
    for authority in current.authorities:
        click.echo(f"authority         {authority.fingerprint}  {authority.name}")
    for reviewer in current.reviewers:
        click.echo(f"reviewer          {reviewer.encryption}  {reviewer.name} ({reviewer.id})")
        click.echo(f"  signing key     {reviewer.signing}")
        if reviewer.hybrid is not None:
            click.echo(f"  hybrid key      {reviewer.hybrid}")
    click.echo(f"format            {info.format}")
    for onion in info.onions:
        click.echo(f"onion             {onion}")
    for key in info.server_keys:
        click.echo(f"server key        {key}")
    if info.format is not None and info.format >= 2:
        stamp = (
            f"{info.timestamp_expires} ({info.timestamp_days_left} day(s) left)"
            if info.timestamp_expires is not None
            else "none fresh: raazdar-submit clients refuse this keyring"
        )
        click.echo(f"timestamp until   {stamp}")
    click.echo(f"chain             {' <- '.join(f'v{v.version}' for v in info.chain)}")
    from app.cli.subkeys import echo_statuses  # its module adds to this group: imported late

    echo_statuses(instance)
    if info.expiring_soon:
        click.echo(
            f"raazdar: warning: the keyring expires in {info.days_left} day(s); "
            "after that no report can be taken",
            err=True,
        )
        click.echo("raazdar: hint: have the authorities sign a successor now", err=True)
    if info.timestamp_stale_soon:
        click.echo("raazdar: warning: the keyring timestamp is stale or expires soon", err=True)
        click.echo(
            "raazdar: hint: renew it: `raazdar-review keys timestamp` on the workstation, "
            "then `raazdar keyring timestamp FILE` here",
            err=True,
        )
    if info.onions and not set(info.onions) & set(_own_onions(instance)):
        click.echo(
            "raazdar: warning: the keyring lists none of this host's onion addresses "
            "(expected only behind Onionbalance, where it lists the master address)",
            err=True,
        )
    if info.format == 1:
        click.echo(
            "raazdar: warning: the keyring does not list the instance (format 1); "
            "raazdar-submit clients refuse it",
            err=True,
        )
        click.echo(
            "raazdar: hint: `raazdar keyring instance-info`, and have the authorities sign "
            "a successor with it (docs/review-workstation.md)",
            err=True,
        )


@keyring.command()
@click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.pass_obj
@reports_errors
def install(instance: Path, file: Path) -> None:
    """Install FILE, a manifest signed offline, as the successor of the one in force."""
    from app.db import transaction
    from app.operations.keyring_admin import MAX_BYTES, KeyringInstallError
    from app.operations.keyring_admin import install as install_manifest
    from app.services.audit import CONSOLE
    from app.services.refusals import keyring_refusal

    with open_carried(file) as src:
        # One byte more than allowed, so that an oversized file is refused, not truncated.
        data = src.read(MAX_BYTES + 1)
    with app_context(instance):
        try:
            with transaction() as session:
                installed = install_manifest(session, data, actor=CONSOLE)
        except KeyringInstallError as exc:
            refusal = keyring_refusal(exc)
            fail(refusal.error, refusal.hint)
    click.echo(
        f"raazdar: keyring v{installed.version} is in force until {installed.expires} "
        f"(replacing v{installed.previous}); new reports are sealed to its "
        f"{installed.reviewers} reviewer(s)"
    )
    if installed.seals_to_subkeys:
        click.echo("raazdar: format 3: reports are sealed only to the reviewers' weekly subkeys")
    _say_locked(instance, installed.locked, installed.devices)


def _say_locked(
    instance: Path, names: tuple[tuple[str, str | None], ...], devices: dict[str, list[str]]
) -> None:
    """Say which accounts the install locked, and what is left to the administrator."""
    from app.cli.staff import hint_devices, warn_handed
    from app.db import db_session
    from app.services import staff as staff_service

    with app_context(instance):
        handed = {
            name: staff_service.second_factors_handed_by(db_session(), name)
            for name, set_by in names
            if set_by is None
        }

    for name, set_by in names:
        why = (
            "the keyring no longer lists the reviewer bound to it"
            if set_by is None
            else f"{set_by} set its password (not changed since) and may have set up its"
            " authenticator"
        )
        click.echo(f"raazdar: locked {name}: {why}; its sessions have ended")
        click.echo(
            f"raazdar: hint: remove it (`raazdar staff remove {name}`), or give it back with "
            f"`raazdar staff reset-2fa {name}` once you know who holds it",
            err=True,
        )
        warn_handed(name, handed.get(name, []))
        hint_devices(instance, name, devices.get(name, []))


@keyring.command("timestamp")
@click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.pass_obj
@reports_errors
def timestamp(instance: Path, file: Path) -> None:
    """Install FILE, a keyring timestamp signed offline, for the keyring in force."""
    from app.db import transaction
    from app.keyring import install_timestamp, keyring_held
    from app.models import today
    from app.operations.restore import note_timestamp
    from app.services import audit
    from app.services.context import services
    from app.subkeys import read_lists
    from crypto.constants import TIMESTAMP_MAX_BYTES

    with open_carried(file) as src:
        data = src.read(TIMESTAMP_MAX_BYTES + 1)
    with app_context(instance):
        svc = services()
        # Under the lock, so a list installed meanwhile is the one compared with.
        with keyring_held(svc.paths):
            lists = read_lists(svc.paths)
            stamp = install_timestamp(svc.paths, data, svc.manifest(), today(), lists)
        note_timestamp(svc.paths, stamp.issued)
        with transaction() as session:
            audit.record(
                session,
                audit.CONSOLE,
                "keyring-timestamp-installed",
                version=stamp.version,
                expires=stamp.expires.isoformat(),
            )
    click.echo(
        f"raazdar: keyring v{stamp.version} is vouched for as the newest until {stamp.expires}"
    )


@keyring.command("instance-info")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file (default: standard output).",
)
@click.pass_obj
@reports_errors
def instance_info(instance: Path, output: Path | None) -> None:
    """Print this instance's onions, signing keys, id and codename settings, for a keyring draft.

    Nothing in it is secret. Carry it to the review workstation for
    `raazdar-review keys draft --instance FILE`; the authorities check the onion
    addresses and keys it lists before they sign.
    """
    from app.instance import InstancePaths, load_config
    from app.operations.rotation import instance_description, make_source_onion

    paths = InstancePaths(instance)
    config = load_config(paths)
    make_source_onion(paths)
    text = json.dumps(instance_description(paths, config), indent=2) + "\n"
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, "utf-8")
        click.echo(f"raazdar: wrote {output}", err=True)


def _own_onions(instance: Path) -> tuple[str, ...]:
    from app.instance import InstancePaths
    from app.operations.rotation import onion_addresses

    return onion_addresses(InstancePaths(instance))
