"""`raazdar keyring subkeys install`: reviewers' weekly subkey lists (docs/PROTOCOL.md §5A.8)."""

from __future__ import annotations

from pathlib import Path

import click

from app.cli.base import app_context, open_carried, reports_errors
from app.cli.keyring import keyring
from crypto.constants import SUBKEYS_MAX_BYTES, SUBKEYS_WARN_DAYS
from crypto.subkeys import requires_subkeys


@keyring.group()
def subkeys() -> None:
    """Install the weekly subkey lists reviewers sign on the workstation (format-3 keyrings)."""


@subkeys.command("install")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(dir_okay=False, exists=True, path_type=Path)
)
@click.option(
    "--rekeyed",
    is_flag=True,
    help="The lists give new keys for weeks the installed ones cover: their reviewer re-keyed "
    "them after a subkey was compromised, and says so. The replaced keys are refused from "
    "then on.",
)
@click.pass_obj
@reports_errors
def install(instance: Path, files: tuple[Path, ...], rekeyed: bool) -> None:
    """Install FILE…, each a reviewer's signed subkey list: all of them, or none if one fails."""
    from app.db import transaction
    from app.keyring import keyring_held
    from app.models import today
    from app.services import audit
    from app.services.context import services
    from app.subkeys import check_lists, put_lists

    documents = []
    for file in files:
        with open_carried(file) as src:
            # One byte more than allowed, so that an oversized file is refused, not truncated.
            documents.append(src.read(SUBKEYS_MAX_BYTES + 1))
    # The keyring's lock first, then the database: the check sees every list another
    # install put in place, and no other install checks before this one is recorded.
    with app_context(instance), keyring_held(services().paths), transaction() as session:
        svc = services()
        gone = audit.superseded_subkeys(session)
        installed = check_lists(
            svc.paths, documents, svc.manifest(), today(), rekeyed=rekeyed, superseded=gone
        )
        for item in installed:
            audit.record(
                session,
                audit.CONSOLE,
                audit.SUBKEYS_INSTALLED,
                reviewer=item.recipient.id,
                weeks=f"{item.subkeys.first} to {item.subkeys.last}",
                replaced=sorted(key.fingerprint.key_id.hex() for _, key in item.replaced),
            )
        put_lists(svc.paths, installed)
    for item in installed:
        click.echo(
            f"raazdar: subkeys of {item.recipient.name} ({item.recipient.id}) installed: "
            f"{item.subkeys.first} to {item.subkeys.last}"
        )
        if item.replaced:
            weeks = ", ".join(str(period) for period, _ in item.replaced)
            click.echo(f"raazdar: new keys for {weeks}; the replaced ones are refused from now on")


def echo_statuses(instance: Path) -> None:
    """Print each reviewer's list and days left (for `keyring show`), warning when short."""
    from app.keyring import fresh_timestamp
    from app.models import today
    from app.services.context import services
    from app.subkeys import statuses

    with app_context(instance):
        svc = services()
        state = svc.keyring()
        manifest = state.manifest
        if manifest is None:
            return
        stamp = fresh_timestamp(state, today())
        floors = dict(stamp.subkeys) if stamp is not None else {}
        # Counted from the week reports are sealed to, as doctor counts (`Services.sealing_day`).
        found = statuses(manifest, svc.subkeys.lists(), svc.sealing_day(), floors)
        hybrid = requires_subkeys(manifest)
    if not hybrid and not any(s.first for s in found):
        return
    for s in found:
        weeks = f"{s.first} to {s.last}" if s.first else "none"
        left = f"{s.days_left} day(s) left" if s.days_left is not None else s.problem
        click.echo(f"subkeys           {weeks} ({left})  {s.recipient.name} ({s.recipient.id})")
    short = [s for s in found if s.days_left is None or s.days_left < SUBKEYS_WARN_DAYS]
    if hybrid and short:
        click.echo(
            "raazdar: warning: no report can be taken once a reviewer's subkeys run out: "
            + ", ".join(s.recipient.id for s in short),
            err=True,
        )
        click.echo(
            "raazdar: hint: `raazdar-review keys subkeys new` on the workstation, "
            "then `raazdar keyring subkeys install FILE…` here",
            err=True,
        )
