"""`raazdar staff-onion add-client|assign|remove-client|list`: who may reach the staff onion."""

from __future__ import annotations

from pathlib import Path

import click

from app.cli.base import app_context, main, reports_errors
from app.operations.tor.clients import ClientError, StaffClients, check_name

RELOAD_HINT = (
    "a running `raazdar serve` picks this up on SIGHUP: `systemctl reload raazdar`, "
    "or `kill -HUP` the PID it printed (no restart needed)"
)


def _clients(instance: Path) -> StaffClients:
    return StaffClients(instance / "tor")


def _record(instance: Path, action: str, device: str) -> None:
    """Add an entry to the audit log: who may reach the staff pages is an admin decision."""
    from app.db import transaction
    from app.services import audit

    with app_context(instance), transaction() as session:
        audit.record(session, audit.CONSOLE, action, device=device)


@main.group("staff-onion")
def staff_onion() -> None:
    """Manage the devices allowed to reach the staff onion (v3 client authorisation)."""


@staff_onion.command("add-client")
@click.option(
    "--for",
    "owner",
    metavar="USERNAME",
    help="The staff account the device is for: removing that account, or a keyring install "
    "that locks it, revokes the device too.",
)
@click.option(
    "--shared",
    is_flag=True,
    help="The device is no one account's (a shared office machine): no removal revokes it; "
    "`remove-client` does.",
)
@click.argument("name")
@click.pass_obj
@reports_errors
def add_client(instance: Path, owner: str | None, shared: bool, name: str) -> None:
    """Authorise one staff device and print its private key, once.

    NAME names the device (e.g. alice-laptop): one key per device, so that a
    lost one can be revoked alone. The server keeps only the public half. Say
    whose it is: `--for USERNAME`, or `--shared` for a device no one account holds.
    """
    from app.db import transaction
    from app.services import audit
    from app.services import staff as staff_service

    _whose_said(owner, shared)
    clients = _clients(instance)
    new = None
    try:
        with app_context(instance), transaction() as session:
            if owner is not None:
                owner = staff_service.get_account(session, owner).username
            new = clients.add(name)
            whose: dict[str, object] = {"shared": True} if owner is None else {"owner": owner}
            audit.record(session, audit.CONSOLE, audit.DEVICE_ADDED, device=new.name, **whose)
    except BaseException:
        # Not recorded, so not whose it is: the key goes, and nobody was shown it.
        if new is not None:
            clients.remove(new.name)
        raise
    click.echo(f"raazdar: authorised device {new.name} for the staff onion")
    if owner is not None:
        click.echo(
            f"raazdar: {new.name} is {owner}'s: removing {owner}, or a keyring install that "
            "locks the account, revokes it"
        )
    click.echo(f"Staff onion address: http://{new.address}/staff/")
    click.echo("")
    click.echo(f"Private key for {new.name} (shown once, never stored on this server):")
    click.echo(f"    {new.key.private_b32}")
    click.echo("")
    click.echo("Tor Browser: open the address above; when it asks for a key, paste the")
    click.echo("private key and tick 'Remember this key' (or add it under Settings >")
    click.echo("Privacy & Security > Onion Services Authentication > Saved Keys).")
    click.echo(f"tor (ClientOnionAuthDir): a file {new.name}.auth_private holding the line")
    click.echo(f"    {new.private_line}")
    click.echo("")
    click.echo("Hand it over in person or on the device itself; anyone who holds it can")
    click.echo("reach the staff login page. Revoke it with")
    click.echo(f"`raazdar staff-onion remove-client {new.name}`.")
    if owner is None:
        click.echo(
            f"raazdar: {new.name} is shared: no removal revokes it; revoke it by hand "
            "when anyone who used it leaves",
        )
    click.echo(f"raazdar: hint: {RELOAD_HINT}", err=True)


def _whose_said(owner: str | None, shared: bool) -> None:
    """A usage error unless exactly one of `--for` and `--shared` was given.

    A device for nobody in particular outlives every removal: an administrator in a
    hurry made one for a colleague by leaving `--for` out, and her laptop reached the
    staff onion after she was gone. So it must be asked for by name.
    """
    if (owner is None) == (not shared):
        raise click.UsageError(
            "say whose the device is: --for USERNAME (removing that account revokes it) "
            "or --shared (a device no one account holds: no removal revokes it), not both"
            if shared
            else "say whose the device is: --for USERNAME (removing that account revokes it) "
            "or --shared (a device no one account holds: no removal revokes it)"
        )


@staff_onion.command("assign")
@click.option("--for", "owner", metavar="USERNAME", required=True, help="The staff account.")
@click.argument("name")
@click.pass_obj
@reports_errors
def assign(instance: Path, owner: str, name: str) -> None:
    """Say whose an authorised device is, so that removing that account revokes it.

    For a device added before owners were recorded, or shared until now; audited.
    """
    from app.db import transaction
    from app.services import audit
    from app.services import staff as staff_service

    clients = _clients(instance)
    with app_context(instance), transaction() as session:
        owner = staff_service.get_account(session, owner).username
        name = check_name(name)
        if name not in clients.names():
            raise ClientError(f"no device named {name!r} is authorised")
        audit.record(session, audit.CONSOLE, audit.DEVICE_ASSIGNED, device=name, owner=owner)
    click.echo(
        f"raazdar: {name} is {owner}'s: removing {owner}, or a keyring install that "
        "locks the account, revokes it"
    )


@staff_onion.command("remove-client")
@click.argument("name")
@click.pass_obj
@reports_errors
def remove_client(instance: Path, name: str) -> None:
    """Revoke one staff device: it can no longer reach the staff onion."""
    clients = _clients(instance)
    device = clients.remove(name)
    _record(instance, "staff-onion-client-removed", device)
    click.echo(f"raazdar: revoked device {device}")
    if not clients.names():
        click.echo(
            "raazdar: no device is authorised now: the staff onion will not be published",
        )
    click.echo(f"raazdar: hint: {RELOAD_HINT}", err=True)


@staff_onion.command("list")
@click.pass_obj
@reports_errors
def list_clients(instance: Path) -> None:
    """List the staff onion's address, the authorised devices and whose each is."""
    from app.db import db_session
    from app.services import audit

    clients = _clients(instance)
    address = clients.address()
    click.echo(f"staff onion: {address or '(no key yet: made by the first add-client)'}")
    keys, problems = clients.public_keys()
    if not keys:
        click.echo("no device is authorised: the staff onion is not published")
    with app_context(instance):
        owners, shared = audit.device_owners(db_session()), audit.shared_devices(db_session())
    for name, key in keys.items():
        whose = (
            f"for {owners[name]}"
            if owners.get(name)
            else "shared: no removal revokes it"
            if name in shared
            else f"for nobody: no removal revokes it; `raazdar staff-onion assign {name} --for "
            "USERNAME`"
        )
        click.echo(f"{name}  descriptor:x25519:{key}  ({whose})")
    for problem in problems:
        click.echo(f"raazdar: warning: unreadable, left out: {problem}", err=True)
