"""`raazdar rotate signing-key|secret-key|onion`: replace the server's own keys.

Each is a step of the runbooks in deploy/README.md ("we think the server was
compromised"). The signing key and the onion are listed in the keyring, so
their rotation makes a pending key that the authorities list in the next
keyring; the server switches when that keyring is installed.
"""

from __future__ import annotations

from pathlib import Path

import click

from app.cli.base import app_context, main, reports_errors


def _record(
    instance: Path,
    action: str,
    *,
    logins_void: bool = False,
    replaced_secret_key: bytes | None = None,
    secret_key: bytes | None = None,
    **detail: str,
) -> None:
    """Add an entry to the audit log: rotating the server's keys is an admin decision.

    `logins_void`: every login row is deleted with it (the secret key's rotation).
    `replaced_secret_key`: the staff's TOTP secrets are sealed again from it, under
    `secret_key`, and the counts of codes tried at their logins carried over from the
    names keyed by it to those keyed by `secret_key`.
    """
    from app import sessions
    from app.db import transaction
    from app.services import audit
    from app.services import staff as staff_service

    with app_context(instance), transaction() as session:
        if logins_void or replaced_secret_key is not None:
            # The accounts' rows before their logins, as every change of an account takes them.
            staff_service.hold_every_account(session)
        if logins_void:
            sessions.end_every_login(session)
        if replaced_secret_key is not None and secret_key is not None:
            staff_service.reseal_second_factors(session, replaced_secret_key, secret_key)
            staff_service.carry_throttles(session, replaced_secret_key, secret_key)
        audit.record(session, audit.CONSOLE, action, **detail)


def _recorded(instance: Path, action: str, field: str, value: str) -> bool:
    """Whether the audit log has an entry of `action` whose `field` is `value`."""
    import json

    from app.db import transaction
    from app.services import audit

    with app_context(instance), transaction() as session:
        found = audit.entries(session, action=action)
        return any(json.loads(e.detail).get(field) == value for e in found)


def _say_recorded_late(what: str) -> None:
    click.echo(f"raazdar: {what} made by a rotation cut off before its audit entry is recorded now")


@main.group()
def rotate() -> None:
    """Replace the server's bundle-signing key, secret key or source onion."""


@rotate.command("signing-key")
@click.pass_obj
@reports_errors
def signing_key(instance: Path) -> None:
    """Make a new bundle-signing key, used once a keyring signed by the authorities lists it.

    Until then exports stay signed with the old key, which the keyring in force
    lists. Print the instance's part of the next keyring with
    `raazdar keyring instance-info`.
    """
    from app.instance import InstancePaths
    from app.operations.rotation import pending_signing_key, rotate_signing_key

    paths = InstancePaths(instance)
    action = "server-signing-key-rotated"
    # Made, and its entry's commit failed (the database away): recorded now, not refused
    # as "already pending" for ever with no entry in the log.
    waiting = pending_signing_key(paths)
    late = waiting is not None and not _recorded(instance, action, "key", waiting.to_text())
    key = waiting if waiting is not None and late else rotate_signing_key(paths)
    _record(instance, action, key=key.to_text())
    if late:
        _say_recorded_late("the bundle-signing key")
    click.echo(f"raazdar: new bundle-signing key, pending: {key.to_text()}")
    click.echo(f"raazdar: fingerprint {key.fingerprint}")
    click.echo(
        "raazdar: hint: have the authorities sign a keyring listing it (and not the old one); "
        "installing that keyring switches exports to the new key",
        err=True,
    )


@rotate.command("secret-key")
@click.pass_obj
@reports_errors
def secret_key(instance: Path) -> None:
    """Replace the secret key: every source and staff session ends."""
    from app.instance import InstancePaths
    from app.noatime import read_quietly
    from app.operations.rotation import rotate_secret_key, secret_key_check, switch_secret_key

    paths = InstancePaths(instance)
    if _finish_secret_key(instance):
        click.echo(
            "raazdar: the secret key rotation cut off after the second factors were sealed "
            "under its new key is finished; every session made under the old one is void"
        )
    else:
        try:
            replaced: bytes | None = read_quietly(paths.secret_key)
        except OSError:
            replaced = None  # none to seal the second factors again from
        # The new key waits beside the old one until the second factors are sealed under it
        # and committed: cut off before, the next run starts again; after, it switches.
        new = rotate_secret_key(paths)
        # Its logins are void: their rows go now, not at their day's sweep. Those the running
        # workers make with the old key until the restart are noted by the new ones as they
        # start (`app.sessions.init_app`), and deleted within an idle deadline. The staff's
        # second factors are sealed again under the new key, and the counts of their codes
        # tried, kept under names keyed by the old, carried over to names keyed by the new.
        _record(
            instance,
            "secret-key-rotated",
            logins_void=True,
            replaced_secret_key=replaced,
            secret_key=new,
            check=secret_key_check(new),
        )
        switch_secret_key(paths)
        click.echo("raazdar: new secret key written; every session made under the old one is void")
    click.echo(
        "raazdar: hint: restart the server now (`systemctl restart raazdar`): "
        "until then the running workers keep the old key",
        err=True,
    )


def _finish_secret_key(instance: Path) -> bool:
    """Switch to a pending secret key whose rotation was committed; drop any other.

    Committed, its audit entry holds the key's check (or, from a rotation before checks
    were logged, the second factors are sealed under it), and only the switch was cut
    off. Otherwise it never was: the pending key is overwritten and removed.
    """
    from app.db import transaction
    from app.files import overwrite
    from app.instance import InstancePaths
    from app.noatime import read_quietly
    from app.operations.rotation import pending_secret_path, secret_key_check, switch_secret_key
    from app.services import staff as staff_service

    paths = InstancePaths(instance)
    pending = pending_secret_path(paths)
    try:
        key = read_quietly(pending)
    except FileNotFoundError:
        return False
    with app_context(instance), transaction() as session:
        committed = staff_service.sealed_under(session, key)
    committed = committed or _recorded(
        instance, "secret-key-rotated", "check", secret_key_check(key)
    )
    if committed:
        switch_secret_key(paths)
        return True
    overwrite(pending)
    pending.unlink()
    return False


@rotate.command("onion")
@click.pass_obj
@reports_errors
def onion(instance: Path) -> None:
    """Make the next source onion, published beside the old one until a keyring drops the old."""
    from app.instance import InstancePaths
    from app.operations.rotation import pending_onion, rotate_onion

    paths = InstancePaths(instance)
    action = "source-onion-rotated"
    # As for the signing key: made, and its entry's commit failed.
    waiting = pending_onion(paths)
    late = waiting is not None and not _recorded(instance, action, "onion", waiting)
    address = waiting if waiting is not None and late else rotate_onion(paths)
    _record(instance, action, onion=address)
    if late:
        _say_recorded_late("the next source onion")
    click.echo(f"raazdar: next source onion: {address}")
    click.echo(
        "raazdar: hint: restart the server to publish it; have the authorities sign a keyring "
        "listing both addresses, then one listing the new one alone, which retires the old",
        err=True,
    )
