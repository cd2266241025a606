"""`raazdar backup`: the instance as one tar on stdout, for `age` to encrypt on its way out."""

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
    the SQLite database (copied and rebuilt in memory) and the store's envelopes go
    to the pipe only, dated the epoch. A PostgreSQL database is pg_dump's to back up.
    """
    from app.cli.maintenance import _offline
    from app.config import config_for
    from app.instance import InstancePaths
    from app.operations.backup import PG_DUMP, write_backup
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
            compact(engine)  # the tables in key order for the pg_dump that follows
        with held_still(store):
            report = write_backup(InstancePaths(instance), config_for(instance).DATABASE_URL, out)
    out.flush()
    click.echo(
        f"raazdar: backup: {report.files} file(s), {report.envelopes} of them envelopes"
        + (", and the database" if report.database else ""),
        err=True,
    )
    if not report.database:
        click.echo(
            "raazdar: hint: the database is PostgreSQL's: back it up now (rewritten in key "
            "order) with "
            f"`{PG_DUMP}`, encrypted the same way (deploy/README.md §1.7)",
            err=True,
        )
