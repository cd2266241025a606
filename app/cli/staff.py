"""`raazdar staff add|remove|role|bind|reset-password|reset-2fa|device-link|list`: the staff
accounts."""

from __future__ import annotations

from pathlib import Path

import click

from app.cli.base import app_context, main, reports_errors


@main.group()
def staff() -> None:
    """Manage the accounts of the staff interface (every change is audited)."""


def _prompted_password() -> str:
    value: str = click.prompt(
        "New password (12 characters or more)",
        hide_input=True,
        confirmation_prompt="Repeat it",
    )
    return value


def _show_password(username: str, password: str) -> None:
    click.echo(f"Password for {username} (shown once: hand it over in person):")
    click.echo(f"    {password}")


_PROMPT_OPTION = click.option(
    "--prompt-password",
    is_flag=True,
    help="Type the password at a prompt instead of having a passphrase generated.",
)


_REVIEWER_HELP = (
    "The signing-key fingerprint of the reviewer who holds the account, as `raazdar keyring "
    "show` lists it: a keyring that no longer lists them locks the account."
)


@staff.command("add")
@click.option("--admin", is_flag=True, help="Make the account an administrator.")
@click.option("--reviewer", metavar="FINGERPRINT", help=_REVIEWER_HELP)
@_PROMPT_OPTION
@click.argument("username")
@click.pass_obj
@reports_errors
def add(
    instance: Path, admin: bool, reviewer: str | None, prompt_password: bool, username: str
) -> None:
    """Add an account; its second factor (TOTP) is set up at its first login."""
    from app.db import db_session
    from app.services import staff as staff_service
    from app.services.audit import CONSOLE

    password = _prompted_password() if prompt_password else None
    with app_context(instance):
        account, password = staff_service.create_account(
            db_session(),
            CONSOLE,
            username,
            role="admin" if admin else "staff",
            password=password,
            reviewer=reviewer,
        )
        name, role, bound = account.username, account.role, account.reviewer
    click.echo(f"raazdar: added {name} ({role})")
    if bound is not None:
        click.echo(f"raazdar: {name} is bound to the reviewer with the signing key {bound}")
    if not prompt_password:
        _show_password(name, password)
    click.echo("raazdar: the authenticator app (TOTP) is set up at the first login")


@staff.command("remove")
@click.argument("username")
@click.pass_obj
@reports_errors
def remove(instance: Path, username: str) -> None:
    """Delete an account (the last administrator stays)."""
    from app.db import db_session
    from app.services import staff as staff_service
    from app.services.audit import CONSOLE

    with app_context(instance):
        session = db_session()
        account = staff_service.get_account(session, username)
        name = account.username
        removal = staff_service.remove_account(session, CONSOLE, account)
        known = removal.known
        handed = staff_service.second_factors_handed_by(session, name)
    click.echo(f"raazdar: removed {name}")
    if known:
        click.echo(
            f"raazdar: locked {', '.join(known)}: {name} set their passwords (not changed since)"
            f" and may have set up their authenticators; they log in again once reset",
            err=True,
        )
        click.echo(
            "raazdar: hint: give each owner a new passphrase with `raazdar staff reset-2fa NAME`",
            err=True,
        )
    warn_handed(name, handed)
    hint_devices(instance, name, removal.devices)


@staff.command("device-link")
@click.argument("username")
@click.pass_obj
@reports_errors
def device_link(instance: Path, username: str) -> None:
    """Print a link for a new browser of USERNAME: opened first, its login is served as a
    known device's during a flood of requests proving nothing (it holds until tomorrow's end,
    and gives a place to wait, never a login: the password and a code are still needed)."""
    from app.db import db_session
    from app.services import audit, staff_devices
    from app.services import staff as staff_service

    with app_context(instance):
        session = db_session()
        account = staff_service.get_account(session, username)
        name, link = account.username, staff_devices.link(account)
        # Who was handed one, and when (the day): it lets a browser wait as hers for a flood.
        audit.record(session, audit.CONSOLE, "staff-device-linked", username=name)
        session.commit()
    click.echo(f"Link for a new browser of {name} (until tomorrow's end; hand it over in person):")
    click.echo(f"    http://STAFF-ONION{link}")
    click.echo(
        "raazdar: hint: STAFF-ONION is the staff onion's address (`raazdar staff-onion list`);"
        " a removal, a reset or a new password voids the link",
        err=True,
    )


def warn_handed(name: str, handed: list[str]) -> None:
    """Name the accounts whose authenticator `name` may have set up, and that stay as they are."""
    for other in handed:
        click.echo(
            f"raazdar: warning: {name} handed {other} the passphrase its authenticator was set "
            f"up with, and no reset since: unless you know {other}'s owner set it up (an account "
            f"whose owner never logged in may be {name}'s), `raazdar staff reset-2fa {other}`",
            err=True,
        )


@staff.command("role")
@click.argument("username")
@click.argument("role", type=click.Choice(["staff", "admin"]))
@click.pass_obj
@reports_errors
def role(instance: Path, username: str, role: str) -> None:
    """Make an account staff or admin (the last administrator stays one).

    The admin pages add, promote, demote or remove no administrator: one
    administrator alone would hold a second one's account, or take every other away.
    """
    from app.db import db_session
    from app.services import staff as staff_service
    from app.services.audit import CONSOLE

    with app_context(instance):
        session = db_session()
        account = staff_service.get_account(session, username)
        staff_service.set_role(session, CONSOLE, account, role)
        name = account.username
    click.echo(f"raazdar: {name} is now {role}")


@staff.command("bind")
@click.argument("username")
@click.argument("fingerprint", required=False)
@click.option("--none", "unbind", is_flag=True, help="Bind the account to no reviewer.")
@click.pass_obj
@reports_errors
def bind(instance: Path, username: str, fingerprint: str | None, unbind: bool) -> None:
    """Bind an account to the reviewer who holds it, by signing-key FINGERPRINT (audited).

    Installing a keyring that no longer lists that reviewer locks the account.
    An account bound to nobody outlives its holder's revocation.
    """
    from app.db import db_session
    from app.services import staff as staff_service
    from app.services.audit import CONSOLE

    if (fingerprint is None) == (not unbind):
        raise click.UsageError("give a FINGERPRINT, or --none to bind the account to nobody")
    with app_context(instance):
        session = db_session()
        account = staff_service.get_account(session, username)
        staff_service.bind_reviewer(session, CONSOLE, account, fingerprint)
        name, bound = account.username, account.reviewer
    if bound is None:
        click.echo(f"raazdar: {name} is bound to no reviewer")
        click.echo(
            "raazdar: hint: revoking its holder in the keyring will not lock it: "
            "`raazdar staff remove` it then",
            err=True,
        )
    else:
        click.echo(f"raazdar: {name} is bound to the reviewer with the signing key {bound}")


def hint_devices(instance: Path, username: str, revoked: list[str]) -> None:
    """Say which staff devices went with the account, and name those that look like its own
    but were added for nobody, or were added for it and could not be revoked: they still
    reach the onion (`owners.still_reaching`).

    A device added for an account (`staff-onion add-client --for`) is revoked with
    it; one added for nobody (or before owners were recorded) is a gate of its own
    (deploy/README.md §1.6): a colleague removed keeps the login page, and every
    login's Argon2id hash, within reach until it is revoked.
    """
    from app.db import db_session
    from app.operations.tor import owners

    if revoked:
        which = "the device" if len(revoked) == 1 else "the devices"
        click.echo(f"raazdar: revoked {', '.join(revoked)}, {which} added for {username}")
        click.echo(
            "raazdar: hint: a running `raazdar serve` re-publishes the staff onion without "
            "them within seconds (or at once on `systemctl reload raazdar`)",
            err=True,
        )
    with app_context(instance):
        devices = owners.still_reaching(db_session(), owners.instance_clients(), username)
    if devices:
        click.echo(
            f"raazdar: hint: {', '.join(devices)} can still reach the staff onion: revoke "
            + ", ".join(f"`raazdar staff-onion remove-client {d}`" for d in devices)
            + ", then `systemctl reload raazdar`",
            err=True,
        )
    elif not revoked:
        click.echo(
            "raazdar: hint: their devices still reach the staff onion until revoked: "
            "`raazdar staff-onion list`, then `raazdar staff-onion remove-client DEVICE`",
            err=True,
        )


@staff.command("reset-password")
@_PROMPT_OPTION
@click.argument("username")
@click.pass_obj
@reports_errors
def reset_password(instance: Path, prompt_password: bool, username: str) -> None:
    """Give an account a new password; its sessions end."""
    from app.db import db_session
    from app.services import staff as staff_service
    from app.services.audit import CONSOLE

    password = _prompted_password() if prompt_password else None
    with app_context(instance):
        session = db_session()
        account = staff_service.get_account(session, username)
        password = staff_service.reset_password(session, CONSOLE, account, password)
        name = account.username
    click.echo(f"raazdar: new password set for {name}; their sessions have ended")
    if not prompt_password:
        _show_password(name, password)


@staff.command("reset-2fa")
@_PROMPT_OPTION
@click.argument("username")
@click.pass_obj
@reports_errors
def reset_2fa(instance: Path, prompt_password: bool, username: str) -> None:
    """Forget an account's authenticator and give it a new password; its sessions end.

    The next login sets up an authenticator with the new password alone: the old
    one would let whoever has it (with the lost phone) set up theirs first.
    """
    from app.db import db_session
    from app.services import staff as staff_service
    from app.services.audit import CONSOLE

    password = _prompted_password() if prompt_password else None
    with app_context(instance):
        session = db_session()
        account = staff_service.get_account(session, username)
        password = staff_service.reset_totp(session, CONSOLE, account, password)
        name = account.username
    click.echo(f"raazdar: second factor of {name} reset and a new password set; sessions ended")
    if not prompt_password:
        _show_password(name, password)
    click.echo(
        "raazdar: hint: they set up their authenticator again at their next login, "
        "with the new password",
        err=True,
    )


@staff.command("list")
@click.pass_obj
@reports_errors
def list_(instance: Path) -> None:
    """List the accounts: role, whether 2FA is set up (or the account locked), the day created
    and last logged in, and the reviewer it is bound to (a keyring that drops them locks it)."""
    from app.db import db_session
    from app.services import audit
    from app.services import staff as staff_service

    with app_context(instance):
        session = db_session()
        locked, names = audit.locked(session), staff_service.reviewer_names()
        rows = [
            (
                a.username,
                a.role,
                "locked" if a.username in locked else "yes" if a.totp_enrolled else "not yet",
                a.created_day.isoformat(),
                a.last_login_day.isoformat() if a.last_login_day else "never",
                _reviewer(a.reviewer, names),
            )
            for a in staff_service.list_accounts(session)
        ]
    if not rows:
        click.echo("raazdar: no staff accounts")
        click.echo("raazdar: hint: add one with `raazdar staff add --admin USERNAME`", err=True)
        return
    header = ("USERNAME", "ROLE", "2FA", "CREATED", "LAST LOGIN", "REVIEWER")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


def _reviewer(fingerprint: str | None, names: dict[str, str]) -> str:
    """The reviewer an account is bound to, as the keyring in force names them."""
    if fingerprint is None:
        return "none"
    if fingerprint not in names:
        return f"not in the keyring ({fingerprint})"
    return f"{names[fingerprint]} ({fingerprint})"
