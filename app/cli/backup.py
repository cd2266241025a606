"""`raazdar backup` and `raazdar restore`: the instance as one tar, through `age` both ways."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from app.cli.base import fail, main, reports_errors


@main.command()
@click.pass_obj
@reports_errors
def backup(instance: Path) -> None:
    """Write a backup (a tar) to stdout: pipe it to `age -r RECIPIENT`.

    Nothing unencrypted is written to the disk: the keys, the keyring, tor's keys,
    the database (SQLite's copied and rebuilt in memory, PostgreSQL's dumped by
    pg_dump in one snapshot, held in memory) and the store's envelopes go to the pipe
    only, dated the epoch.
    """
    from app.cli.maintenance import _offline
    from app.config import config_for
    from app.instance import InstancePaths
    from app.operations.backup import write_backup
    from app.operations.sweep import compact, held_still

    out = sys.stdout.buffer
    if out.isatty():
        fail(
            "refusing to write a backup to a terminal",
            "raazdar backup | age -r age1… > raazdar-backup.tar.age",
        )
    # No sweep: one now would write the arrivals before it into the store at this moment
    # and the rest at the period's, dating each to its side of the backup. The envelopes
    # held come from holding, and the SQLite copy is rebuilt in memory in key order.
    with _offline(instance) as (session, store):
        engine = session.get_bind().engine
        session.close()
        if engine.dialect.name == "postgresql":
            compact(engine)  # the tables in key order for the dump that follows
        with held_still(store):
            report = write_backup(InstancePaths(instance), config_for(instance).DATABASE_URL, out)
    out.flush()
    click.echo(
        f"raazdar: backup: {report.files} file(s), {report.envelopes} of them envelopes"
        + (", and the database" if report.database else ""),
        err=True,
    )


@main.command()
@click.option(
    "--signing-key",
    "signing_key",
    required=True,
    metavar="FINGERPRINT",
    help="The server signing key's fingerprint the review workspace pinned (`raazdar-review"
    " workspace init` printed it for the key ceremony's record; after a rotation, the server"
    " key the newest keyring lists): a backup holding another is refused.",
)
@click.pass_obj
@reports_errors
def restore(instance: Path, signing_key: str) -> None:
    """Put back a backup read from stdin (`age -d … |`) into an empty instance.

    Nothing is written unless the backup's signing key has FINGERPRINT and every
    member is a file or directory a backup holds; then the server refuses to start
    until the restore is finished (deploy/README.md §1.7).
    """
    from app.instance import InstancePaths
    from app.operations.put_back import put_back
    from crypto import Fingerprint
    from crypto.errors import CryptoError

    try:
        pinned = Fingerprint.parse(signing_key)
    except CryptoError as exc:
        raise click.BadParameter(f"not a fingerprint: {exc}") from None
    source = sys.stdin.buffer
    if source.isatty():
        fail(
            "refusing to read a backup from a terminal",
            "age -d -i KEY raazdar-backup.tar.age | raazdar restore --signing-key FINGERPRINT",
        )
    done = put_back(InstancePaths(instance), source, pinned)
    day = done.day.isoformat() if done.day is not None else "an unknown day"
    if done.finished:
        click.echo(
            f"raazdar: restore: the backup of {day} is in place ({done.files} file(s)): a "
            "restore that stopped while moving it is finished, or it was put back already; "
            "the backup given now was not read"
        )
    else:
        click.echo(
            f"raazdar: restore: {done.files} file(s) put back from the backup of {day}"
            + (", and its PostgreSQL database" if done.database else "")
            + f", its signing key {pinned} as given"
        )
    click.echo(
        "raazdar: hint: the server refuses to start until the restore is finished: undo what "
        "the backup brought back, then `raazdar purge` (deploy/README.md §1.7)"
    )
