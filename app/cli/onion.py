"""`raazdar staff-onion add-client|remove-client|list`: who may reach the staff onion."""

from __future__ import annotations

from pathlib import Path

import click

from app.cli.base import app_context, main, reports_errors
from app.operations.tor.clients import StaffClients

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
@click.argument("name")
@click.pass_obj
@reports_errors
def add_client(instance: Path, owner: str | None, name: str) -> None:
    """Authorise one staff device and print its private key, once.

    NAME names the device (e.g. alice-laptop): one key per device, so that a
    lost one can be revoked alone. The server keeps only the public half.
    """
    from app.db import transaction
    from app.services import audit
    from app.services import staff as staff_service

    clients = _clients(instance)
    new = None
    try:
        with app_context(instance), transaction() as session:
            if owner is not None:
                owner = staff_service.get_account(session, owner).username
            new = clients.add(name)
            whose = {} if owner is None else {"owner": owner}
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
            f"raazdar: hint: {new.name} is no account's: no removal revokes it; "
            "`--for USERNAME` ties a device to the account it is for",
            err=True,
        )
    click.echo(f"raazdar: hint: {RELOAD_HINT}", err=True)


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
        owners = audit.device_owners(db_session())
    for name, key in keys.items():
        whose = f"for {owners[name]}" if owners.get(name) else "for nobody: no removal revokes it"
        click.echo(f"{name}  descriptor:x25519:{key}  ({whose})")
    for problem in problems:
        click.echo(f"raazdar: warning: unreadable, left out: {problem}", err=True)
