"""`raazdar migrate`, `purge`, `sweep` and `doctor`: schema, retention, arrival times, health.

None of them builds the app: each must work when it would refuse to start (a keyring
lapsed, say), which is when old items still have to go and an administrator
most needs to know what is wrong.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Final

import click

from app.cli.base import main, reports_errors

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID
    from sqlalchemy.orm import Session

    from app.operations.retention import PurgeReport
    from app.store import EnvelopeStore

# Below this many files a progress bar would only flicker.
_BAR_FROM: Final = 50
# Rows without files listed by id before the rest are only counted.
_MISSING_SHOWN: Final = 20
_STATUS_LABEL: Final = {"ok": "ok  ", "warn": "warn", "fail": "FAIL"}
_STATUS_COLOUR: Final = {"ok": "green", "warn": "yellow", "fail": "red"}


class _Bar:
    """A rich progress bar on stderr, shown only for long runs on a terminal."""

    def __init__(self) -> None:
        self.progress: Progress | None = None
        self._task: TaskID | None = None

    def start(self, total: int) -> None:
        """Show the bar if there are enough files to make it worth watching."""
        from rich.console import Console
        from rich.progress import Progress

        console = Console(stderr=True)
        if total < _BAR_FROM or not console.is_terminal:
            return
        self.progress = Progress(console=console, transient=True)
        self.progress.start()
        self._task = self.progress.add_task("overwriting and removing files", total=total)

    def advance(self) -> None:
        """Move the bar on by one file."""
        if self.progress is not None and self._task is not None:
            self.progress.advance(self._task)

    def stop(self) -> None:
        """Take the bar off the screen."""
        if self.progress is not None:
            self.progress.stop()


@contextmanager
def _offline(instance: Path) -> Iterator[tuple[Session, EnvelopeStore]]:
    """Open an instance's database and store without the app (and its keyring checks)."""
    from sqlalchemy.orm import Session

    from app import db
    from app.config import config_for
    from app.instance import InstancePaths
    from app.store import EnvelopeStore

    config = config_for(instance)
    paths = InstancePaths(config.INSTANCE_DIR)
    engine = db.make_engine(config.DATABASE_URL)
    try:
        with Session(engine) as session:
            yield session, EnvelopeStore(paths.store, paths.staging)
    finally:
        engine.dispose()


@main.command()
@click.pass_obj
@reports_errors
def migrate(instance: Path) -> None:
    """Bring the instance's database to this release's schema (run after an upgrade).

    Refused while a server runs on the instance: stop it first.
    """
    from app.serving import alone

    with alone(instance):
        _migrate(instance)


def _migrate(instance: Path) -> None:
    """Migrate the database, the instance held alone."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from app import db
    from app.config import config_for
    from app.instance import InstancePaths, relativise_config
    from app.migrate import alembic_config, upgrade

    if relativise_config(InstancePaths(instance)):
        click.echo(
            "raazdar: config.json now names the SQLite database relative to the instance, "
            "so a copy of the instance uses its own"
        )
    url = config_for(instance).DATABASE_URL
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    engine = db.make_engine(url)
    try:
        with engine.connect() as conn:
            before = MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()
    if before == head:
        click.echo(f"raazdar: the database is already at {head}")
        return
    upgrade(url)
    if url.startswith("postgresql"):
        # A migration's UPDATE leaves each replaced version where it was, its old
        # values in it, until the next sweep's CLUSTER: rewritten now, as the sweep does.
        from app.operations.sweep import compact

        engine = db.make_engine(url)
        try:
            compact(engine)
        finally:
            engine.dispose()
    click.echo(f"raazdar: migrated the database from {before} to {head}")


@main.command()
@click.option("--dry-run", is_flag=True, help="Only say what would be deleted; change nothing.")
@click.option(
    "--include-unacknowledged",
    is_flag=True,
    help="Also delete items past retention that the review workstation never "
    "acknowledged (it may never have seen them); the decision is audited.",
)
@click.option(
    "--trust-clock",
    is_flag=True,
    help="Purge although the clock says more than a week passed since the last purge "
    "(the server was off that long); the decision is audited.",
)
@click.option(
    "--keyring-reinstalled",
    is_flag=True,
    help="Finish a restore although the keyring names no timestamp key: your word that the "
    "newest keyring and subkey lists were installed again since (deploy/README.md §1.7).",
)
@click.pass_obj
@reports_errors
def purge(
    instance: Path,
    dry_run: bool,
    include_unacknowledged: bool,
    trust_clock: bool,
    keyring_reinstalled: bool,
) -> None:
    """Delete what retention says is due: old items, expired sources, abandoned uploads, strays."""
    from app.models import today
    from app.operations.retention import purge as run_purge
    from app.sessions import sweep as sweep_logins

    bar = _Bar()
    try:
        with _offline(instance) as (session, store):
            report = run_purge(
                session,
                store,
                today(),
                dry_run=dry_run,
                progress=bar,
                include_unacknowledged=include_unacknowledged,
                trust_clock=trust_clock,
            )
            if not dry_run:
                # Logins that ended before today: their rows go (app.sessions).
                sweep_logins(session)
                session.commit()
    finally:
        bar.stop()
    _say_purged(report)
    if report.failed:
        click.echo(
            f"raazdar: error: {report.failed} file(s) could not be removed; "
            "their rows are gone, so the next purge removes them",
            err=True,
        )
        sys.exit(1)
    if not dry_run:
        _finish_restore(instance, keyring_reinstalled=keyring_reinstalled)


def _finish_restore(instance: Path, *, keyring_reinstalled: bool) -> None:
    """Remove the mark of a restore (`app.instance.RESTORED_NAME`): what it brought back went,
    and the newest keyring is vouched for again (`app.operations.restore`)."""
    from app.instance import InstancePaths
    from app.models import today
    from app.operations.restore import backup_day, keyring_unconfirmed, onion_unlisted

    paths = InstancePaths(instance)
    if not paths.restored.exists():
        return
    unconfirmed = keyring_unconfirmed(paths, today(), reinstalled=keyring_reinstalled)
    if unconfirmed is not None:
        click.echo(f"raazdar: error: restore: not finished: {unconfirmed}", err=True)
        click.echo(
            "raazdar: hint: the server refuses to start until then; what the purge deleted "
            "stays deleted",
            err=True,
        )
        sys.exit(1)
    dropped, count, forgot = _record_restore(instance, backup_day(paths, today()))
    try:
        paths.restored.unlink()
    except FileNotFoundError:
        return
    click.echo(
        f"raazdar: restore: {dropped} reply(ies) the backup brought back were deleted: one "
        "a source deleted since would be back, readable with the codename; the reviewers "
        "send again what a source still needs"
    )
    if forgot:
        click.echo(
            "raazdar: restore: the review workspace key the backup held is forgotten (a "
            "rewrap since may have replaced it): every reply bundle is refused until you "
            "give the reviewers' current key, which their next import prints: "
            "`raazdar set-ack-key KEY`"
        )
    click.echo(
        "raazdar: restore: finished: what was deleted since the backup's day went again, "
        f"and the server may start; the next export tells the workstation of restore {count}"
    )
    if onion_unlisted(paths, today()):
        click.echo(
            "raazdar: warning: restore: the keyring in force lists none of this host's onion "
            "addresses: the backup brought back an onion key rotated since, which the "
            "service would publish again; repeat that rotation (deploy/README.md §1.9) "
            "before you start it (expected only behind Onionbalance)",
            err=True,
        )


def _record_restore(instance: Path, made: dt.date) -> tuple[int, int, bool]:
    """Drop the replies the backup brought back, forget the workspace key it held, and give
    the restore a new random id for exports to carry (`app.models.RestoreMark`): how many
    replies, which restore, and whether a key was forgotten.

    The key is the backup's day's: a rewrap since (revoking a colleague who copied the
    earlier key) replaced it, and only the administrators know the key now (PROTOCOL §13.6).
    """
    import secrets

    from app.models import AckKey, RestoreMark
    from app.operations import pg_backup
    from app.operations.restore import drop_replies
    from app.services import audit
    from crypto import VerifyKey

    with _offline(instance) as (session, store):
        dropped = drop_replies(session, made)
        mark = session.get(RestoreMark, 1)
        if mark is None:
            mark = RestoreMark(id=1, count=0, epoch="")
            session.add(mark)
        mark.count += 1
        mark.epoch = secrets.token_hex(16)
        if session.get_bind().dialect.name == "postgresql":
            # The mark of the backup's load, if the restore did not remove it (killed after
            # its moves, which another command finished): the database keeps no more.
            pg_backup.clear_mark(session.connection())
        held = session.get(AckKey, 1)
        if held is not None:
            before = VerifyKey.from_text(held.key).fingerprint
            session.delete(held)
            audit.record(session, audit.CONSOLE, "ack-key-forgotten", before=str(before))
        session.commit()  # the replies, the key and the new id together, or none
        for reply in dropped:
            store.retire(reply)
        return len(dropped), mark.count, held is not None


def _say_purged(report: PurgeReport) -> None:
    """Print what a purge did, or would do."""
    policy = report.policy
    verb = "would delete" if report.dry_run else "deleted"
    click.echo(
        f"raazdar: retention: items are kept {policy.retention_days} day(s), "
        f"sources expire after {policy.source_expiry_days} day(s) without activity"
    )
    if report.dry_run:
        click.echo("raazdar: dry run: nothing was changed")
    click.echo(
        f"raazdar: {verb} {report.items} item(s) ({report.never_exported} never exported), "
        f"{report.sources} expired source(s) with {report.replies} reply(ies), "
        f"{report.uploads} abandoned upload(s), "
        f"{report.orphans} envelope file(s) without a row, "
        f"{report.leftovers} staging leftover(s)"
    )
    if report.kept:
        click.echo(
            f"raazdar: warning: {report.kept} item(s) past retention "
            f"{'would be' if report.dry_run else 'were'} kept: the review workstation has "
            "not acknowledged them (a lost export bundle?)",
            err=True,
        )
        click.echo(
            "raazdar: hint: have the reviewers import them (`raazdar export --resend`); "
            "only if they are not wanted, `raazdar purge --include-unacknowledged` deletes "
            "them, and the audit log records that decision",
            err=True,
        )
    if report.never_exported:
        click.echo(
            f"raazdar: warning: {report.never_exported} item(s) "
            f"{'would be' if report.dry_run else 'were'} deleted before anyone exported them",
            err=True,
        )
    if report.missing:
        click.echo(
            f"raazdar: warning: {len(report.missing)} row(s) have lost their envelope file "
            "(left as they are):",
            err=True,
        )
        for row in report.missing[:_MISSING_SHOWN]:
            click.echo(f"  {row}", err=True)
        if len(report.missing) > _MISSING_SHOWN:
            click.echo(f"  … and {len(report.missing) - _MISSING_SHOWN} more", err=True)


@main.command()
@click.option("--force", is_flag=True, help="Sweep now, even if this period's sweep has run.")
@click.option(
    "--period",
    "hours",
    type=click.IntRange(1, 24),
    help="First set the sweep period to this many hours (1-24; the default is 24).",
)
@click.pass_obj
@reports_errors
def sweep(instance: Path, force: bool, hours: int | None) -> None:
    """Re-create new envelopes in random order so the disk dates them no finer than the period."""
    from app.instance import InstancePaths
    from app.operations.sweep import sweep as run_sweep
    from app.services import audit, settings_admin

    with _offline(instance) as (session, store):
        if hours is not None:
            settings_admin.update(session, {"sweep_hours": hours}, actor=audit.CONSOLE)
            session.commit()
        engine = session.get_bind().engine
        session.close()
        report = run_sweep(engine, store, force=force, keyring=InstancePaths(instance))
    if report.commits_dated:
        click.echo(
            "raazdar: sweep: warning: PostgreSQL keeps the time of every commit "
            "(track_commit_timestamp is on), each report's and login's, and no sweep takes "
            "it back: turn it off and restart PostgreSQL (raazdar serve refuses to start "
            "until then)",
            err=True,
        )
    if report.wal_kept:
        click.echo(
            "raazdar: sweep: warning: PostgreSQL's WAL was kept, each commit's time in it "
            f"({report.wal_kept}); `raazdar doctor` says what else keeps it (check wal-times)",
            err=True,
        )
    if not report.ran:
        click.echo(
            f"raazdar: sweep: this {report.period_hours}-hour period's sweep has run; "
            "the database was rebuilt, its times and the filesystem's journal made anew "
            "(--force sweeps all the same)"
        )
        _say_rebuild_waiting(report.rebuild_waiting)
        if report.journal_failed:
            click.echo(
                f"raazdar: sweep: warning: the filesystem's journal was not written anew "
                f"({report.journal_failed}): it may still date each write since the last "
                "run; the next run tries again",
                err=True,
            )
        return
    click.echo(
        f"raazdar: sweep: {report.moved} new envelope(s) moved into the store, "
        f"{report.renewed} older one(s) re-created; the database was rebuilt "
        f"(period: {report.period_hours} hour(s))"
    )
    if report.unswept:
        click.echo(
            f"raazdar: sweep: warning: no room for {report.unswept} held envelope(s) above the "
            "disk's last hundredth: their files still say when each arrived; free space "
            "(export, and the reviewers' acknowledgements that follow) and sweep again",
            err=True,
        )
    _say_rebuild_waiting(report.rebuild_waiting)
    if report.journal_failed:
        click.echo(
            f"raazdar: sweep: warning: the filesystem's journal was not written anew "
            f"({report.journal_failed}): it may still date the envelopes just swept; "
            "the next sweep tries again",
            err=True,
        )
    elif report.journal_blocks:
        click.echo(
            f"raazdar: sweep: the filesystem's journal was written anew "
            f"({report.journal_blocks} blocks): it holds nothing older than this sweep"
        )


def _say_rebuild_waiting(waiting: bool) -> None:
    """Warn that a reader kept the rebuilt database in the WAL (`SweepReport.rebuild_waiting`)."""
    if waiting:
        click.echo(
            "raazdar: sweep: warning: a reader of the old database outlasted the sweep's wait: "
            "the rebuilt database waits in the WAL, and the database file keeps its rows in "
            "the order they came until the server's next write empties it\n"
            "hint: run `raazdar sweep --force` again once no long request or backup is running",
            err=True,
        )


@main.command()
@click.pass_obj
@reports_errors
def doctor(instance: Path) -> None:
    """Check the instance: permissions, database, keyring, exports, disks, swap, journal, tor."""
    from app.models import today
    from app.operations.doctor import Surroundings, diagnose, failed, settings

    # Taken before the checks, which load gunicorn's config and an app (each sets a run key).
    where = Surroundings()
    checks = diagnose(instance, today(), where)
    width = max(len(c.name) for c in checks)
    for check in checks:
        label = click.style(_STATUS_LABEL[check.status], fg=_STATUS_COLOUR[check.status])
        click.echo(f"{label}  {check.name:<{width}}  {check.message}")
    click.echo("environment (docs/configuration.md says what each means):")
    for name, value in settings(where):
        click.echo(f"      {name:<20}  {value}")
    counts = {s: sum(1 for c in checks if c.status == s) for s in _STATUS_LABEL}
    click.echo(
        f"raazdar: doctor: {counts['fail']} failed, {counts['warn']} warning(s), {counts['ok']} ok"
    )
    if failed(checks):
        sys.exit(1)
