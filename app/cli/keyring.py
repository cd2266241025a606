"""`raazdar keyring show|install FILE`: the manifest in force, and installing a successor."""

from __future__ import annotations

from pathlib import Path

import click

from app.cli.base import app_context, fail, main, reports_errors

_RULES_HINT = (
    "a successor has a higher version, names the manifest in force as its previous one, "
    "has not expired, and carries enough signatures of the current authority keys"
)


@main.group()
def keyring() -> None:
    """Show the keyring in force, or install a successor the authorities signed."""


@keyring.command()
@click.pass_obj
@reports_errors
def show(instance: Path) -> None:
    """Print the manifest in force: version, dates, threshold, authorities and reviewers."""
    from app.services.keyring_admin import describe

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
    click.echo(f"chain             {' <- '.join(f'v{v.version}' for v in info.chain)}")
    if info.expiring_soon:
        click.echo(
            f"raazdar: warning: the keyring expires in {info.days_left} day(s); "
            "after that no report can be taken",
            err=True,
        )
        click.echo("raazdar: hint: have the authorities sign a successor now", err=True)


@keyring.command()
@click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.pass_obj
@reports_errors
def install(instance: Path, file: Path) -> None:
    """Install FILE, a manifest signed offline, as the successor of the one in force."""
    from app.db import transaction
    from app.services.audit import CONSOLE
    from app.services.keyring_admin import MAX_BYTES, KeyringInstallError, KeyringWriteError
    from app.services.keyring_admin import install as install_manifest

    with file.open("rb") as src:
        # One byte more than allowed, so that an oversized file is refused, not truncated.
        data = src.read(MAX_BYTES + 1)
    with app_context(instance):
        try:
            with transaction() as session:
                installed = install_manifest(session, data, actor=CONSOLE)
        except KeyringInstallError as exc:
            fail(str(exc), None if isinstance(exc, KeyringWriteError) else _RULES_HINT)
    click.echo(
        f"raazdar: keyring v{installed.version} is in force until {installed.expires} "
        f"(replacing v{installed.previous}); new reports are sealed to its "
        f"{installed.reviewers} reviewer(s)"
    )
