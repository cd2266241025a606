"""Retention: old items and idle sources go, file and row; stray files are swept; dry runs count."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import json
import multiprocessing
import os
import secrets
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.cli import main
from app.errors import AppError
from app.models import AuditEntry, Item, Reply, Source, today
from app.operations.retention import (
    CLOCK_JUMP_DAYS,
    ClockJumped,
    Policy,
    PurgeReport,
    at_risk,
    purge,
    unacknowledged,
)
from app.services import audit, settings_admin
from app.settings import SOURCE_EXPIRY_DELAY_DAYS, set_setting
from app.store import REPLY_WORK_PREFIX, EnvelopeStore
from tests.app.support import RETIRED_PREFIX, db_session, row_counts

TODAY = today()
NOW = dt.timedelta(0)


def days_ago(days: int) -> dt.date:
    return TODAY - dt.timedelta(days=days)


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    with db_session(app) as session:
        yield session


def add_source(session: Session, active: int) -> Source:
    """A source last active `active` days ago."""
    source = Source(
        lookup_tag=secrets.token_bytes(32),
        designation=secrets.token_hex(8),
        public_key="unused by retention",
        created_day=days_ago(active),
        active_day=days_ago(active),
    )
    session.add(source)
    session.flush()
    return source


def add_item(
    session: Session, store: EnvelopeStore, source: Source, age: int, *, exported: bool = True
) -> str:
    """An item received `age` days ago, with its envelope file."""
    item = Item(
        source_id=source.id,
        submission_id=secrets.token_hex(16),
        kind="message",
        size=64,
        received_day=days_ago(age),
        exported=exported,
    )
    session.add(item)
    session.flush()
    store.path(item.id).write_bytes(secrets.token_bytes(64))
    return item.id


def add_reply(session: Session, store: EnvelopeStore, source: Source) -> str:
    """A reply waiting for a source, with its envelope file."""
    reply = Reply(source_id=source.id, size=64, received_day=source.active_day)
    session.add(reply)
    session.flush()
    store.path(reply.id).write_bytes(secrets.token_bytes(64))
    return reply.id


def listing(root: Path) -> dict[str, str]:
    """Every file under `root` and a hash of its bytes."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def counts(report: PurgeReport) -> dict[str, object]:
    """What a report says would go or went, without whether it was a dry run."""
    fields = dataclasses.asdict(report)
    del fields["dry_run"]
    return fields


def test_expired_items_are_gone_from_disk_and_database_and_young_ones_stay(
    session: Session, store: EnvelopeStore
) -> None:
    source = add_source(session, active=0)
    expired = [
        add_item(session, store, source, 200),
        add_item(session, store, source, 91, exported=False),
        add_item(session, store, source, 90),  # the 90th day after arrival: due
    ]
    young = [add_item(session, store, source, 89), add_item(session, store, source, 0)]
    session.commit()
    report = purge(session, store, TODAY, include_unacknowledged=True)
    assert (report.items, report.never_exported) == (3, 1)
    remaining = set(session.execute(select(Item.id)).scalars())
    assert remaining == set(young)
    assert {p.stem for p in store.root.glob("*.rze")} == set(young)
    assert not any(store.path(i).exists() for i in expired)
    assert session.get(Source, source.id) is not None


def test_a_purge_killed_between_its_commit_and_its_files_is_finished_by_the_next(
    app: Flask, session: Session, store: EnvelopeStore
) -> None:
    """SIGKILL after the first file is overwritten: the rows are gone, the files wait."""
    source = add_source(session, active=0)
    expired = [add_item(session, store, source, 200) for _ in range(3)]
    young = add_item(session, store, source, 0)
    session.commit()

    def run() -> None:
        app.extensions["raazdar.db"].engine.dispose(close=False)
        real = EnvelopeStore.retire_file
        calls: list[Path] = []

        def dying(self: EnvelopeStore, path: Path) -> None:
            calls.append(path)
            if len(calls) == 2:
                os.kill(os.getpid(), signal.SIGKILL)
            real(self, path)

        EnvelopeStore.retire_file = dying  # type: ignore[method-assign]
        with db_session(app) as child:
            purge(child, store, TODAY, include_unacknowledged=True)

    child = multiprocessing.get_context("fork").Process(target=run)
    child.start()
    child.join(120)
    assert child.exitcode == -signal.SIGKILL
    session.expire_all()
    assert set(session.execute(select(Item.id)).scalars()) == {young}
    report = purge(session, store, TODAY, grace=NOW)
    assert report.orphans == 2
    assert {p.stem for p in store.root.glob("*.rze")} == {young}
    assert not any(store.path(i).exists() for i in expired)
    assert store.path(young).stat().st_size == 64


def test_retention_follows_the_setting(session: Session, store: EnvelopeStore) -> None:
    source = add_source(session, active=0)
    kept = add_item(session, store, source, 20)
    gone = add_item(session, store, source, 31)
    set_setting(session, "retention_days", 30)
    session.commit()
    assert purge(session, store, TODAY, include_unacknowledged=True).items == 1
    assert store.path(kept).exists()
    assert not store.path(gone).exists()


def test_inactive_sources_without_items_expire_with_their_replies(
    session: Session, store: EnvelopeStore
) -> None:
    # Items are kept 400 days here, so that a source inactive for longer than
    # the 365 days of expiry can still have one.
    set_setting(session, "retention_days", 400)
    idle = add_source(session, active=366)
    idle_replies = [add_reply(session, store, idle), add_reply(session, store, idle)]
    holding = add_source(session, active=380)
    held = add_item(session, store, holding, 380)
    emptied = add_source(session, active=500)
    add_item(session, store, emptied, 500)  # due: it goes, and its source with it
    recent = add_source(session, active=364)
    recent_reply = add_reply(session, store, recent)
    session.commit()
    report = purge(session, store, TODAY, include_unacknowledged=True)
    assert (report.items, report.sources, report.replies) == (1, 2, 2)
    session.expire_all()
    assert set(session.execute(select(Source.id)).scalars()) == {holding.id, recent.id}
    assert set(session.execute(select(Reply.id)).scalars()) == {recent_reply}
    assert not any(store.path(r).exists() for r in idle_replies)
    assert store.path(recent_reply).exists()
    assert store.path(held).exists()


def test_an_administrator_who_lowers_source_expiry_expires_nobody_before_others_can_notice(
    session: Session, store: EnvelopeStore
) -> None:
    # One administrator alone, from the web, sets expiry to a day: the next purge would take
    # every source idle since yesterday, and the replies waiting for them.
    idle = add_source(session, active=30)
    waiting = add_reply(session, store, idle)
    session.commit()
    settings_admin.update(session, {"source_expiry_days": 1}, actor="rogue")
    session.commit()
    report = purge(session, store, TODAY)
    assert report.sources == 0, "a lowered source expiry expired sources at once"
    assert report.policy.source_expiry_days == 365
    assert store.path(waiting).exists()
    entry = audit.entries(session)[-1]
    assert (entry.actor, entry.action) == ("rogue", "settings-changed")
    due = TODAY + dt.timedelta(days=SOURCE_EXPIRY_DELAY_DAYS)
    lowered = {"from": 365, "from_day": due.isoformat(), "to": 1}
    assert json.loads(entry.detail)["delayed"] == {"source_expiry_days": lowered}
    # The day before it takes effect, the old value still holds; on that day, the new one.
    report = purge(session, store, due - dt.timedelta(days=1), trust_clock=True)
    assert (report.sources, report.policy.source_expiry_days) == (0, 365)
    report = purge(session, store, due, trust_clock=True)
    assert (report.sources, report.replies) == (1, 1)


def test_raising_source_expiry_again_cancels_a_lowering_and_a_second_lowering_waits_anew(
    session: Session,
) -> None:
    settings_admin.update(session, {"source_expiry_days": 100}, actor="a")
    settings_admin.update(session, {"source_expiry_days": 400}, actor="b")
    assert Policy.read(session, TODAY).source_expiry_days == 400
    settings_admin.update(session, {"source_expiry_days": 200}, actor="a")
    later = TODAY + dt.timedelta(days=SOURCE_EXPIRY_DELAY_DAYS - 1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(settings_admin, "today", lambda: later)
        settings_admin.update(session, {"source_expiry_days": 2}, actor="a")
    # The second lowering counts its delay from its own day, from the value then in force.
    assert Policy.read(session, later + dt.timedelta(days=1)).source_expiry_days == 400
    due = later + dt.timedelta(days=SOURCE_EXPIRY_DELAY_DAYS)
    assert Policy.read(session, due).source_expiry_days == 2


def test_orphan_files_are_removed_and_rows_without_files_are_reported(
    session: Session, store: EnvelopeStore
) -> None:
    source = add_source(session, active=0)
    item = add_item(session, store, source, 1)
    reply = add_reply(session, store, source)
    lost = add_item(session, store, source, 2)
    session.commit()
    store.path(lost).unlink()
    orphan = store.path(secrets.token_hex(16))
    orphan.write_bytes(b"ciphertext nobody refers to")
    unrelated = store.root / "README.txt"
    unrelated.write_text("not an envelope: left alone")
    # A file this new may belong to a request about to commit its row: it waits.
    first = purge(session, store, TODAY)
    assert first.orphans == 0
    assert orphan.exists()
    report = purge(session, store, TODAY, grace=NOW)
    assert report.orphans == 1
    assert report.missing == [f"item {lost}"]
    assert not orphan.exists()
    assert unrelated.exists()
    assert store.path(item).exists()
    assert store.path(reply).exists()
    assert session.get(Item, lost) is not None  # reported, not removed


def test_stale_leftovers_of_staging_and_reply_imports_are_removed(
    session: Session, store: EnvelopeStore
) -> None:
    (store.staging / f"{secrets.token_hex(16)}.rze").write_bytes(b"half an upload")
    work = store.root / f"{REPLY_WORK_PREFIX}crashed" / "items"
    work.mkdir(parents=True)
    (work / "r.rze").write_bytes(b"an unpacked reply")
    assert purge(session, store, TODAY).leftovers == 0
    assert purge(session, store, TODAY, grace=NOW).leftovers == 2
    # Removed, or overwritten and cut to nothing to wait for the sweep (`retire_file`).
    assert [p for p in store.staging.iterdir() if not p.name.startswith(RETIRED_PREFIX)] == []
    assert all(p.stat().st_size == 0 for p in store.staging.iterdir())
    assert list(store.root.glob(f"{REPLY_WORK_PREFIX}*")) == []


def test_a_dry_run_changes_nothing_and_reports_what_a_purge_then_does(
    app: Flask, session: Session, store: EnvelopeStore
) -> None:
    source = add_source(session, active=0)
    for age in (100, 95, 10):
        add_item(session, store, source, age, exported=age != 95)
    idle = add_source(session, active=400)
    add_reply(session, store, idle)
    lost = add_item(session, store, source, 3)
    session.commit()
    store.path(lost).unlink()
    store.path(secrets.token_hex(16)).write_bytes(b"orphan")
    (store.staging / "leftover.rze").write_bytes(b"leftover")
    files = listing(store.root)
    models = (Source, Item, Reply, AuditEntry)
    rows = row_counts(app, *models)

    dry = purge(session, store, TODAY, dry_run=True, grace=NOW, include_unacknowledged=True)
    session.commit()  # were anything pending, it would be written now

    assert listing(store.root) == files
    assert row_counts(app, *models) == rows
    assert dry.dry_run
    assert (dry.items, dry.never_exported, dry.sources, dry.replies) == (2, 1, 1, 1)
    assert (dry.orphans, dry.leftovers, dry.missing) == (1, 1, [f"item {lost}"])
    done = purge(session, store, TODAY, grace=NOW, include_unacknowledged=True)
    assert counts(done) == counts(dry)
    assert row_counts(app, Item)["items"] == rows["items"] - 2


def test_a_purge_is_audited_and_a_dry_run_is_not(session: Session, store: EnvelopeStore) -> None:
    source = add_source(session, active=0)
    add_item(session, store, source, 100, exported=False)
    session.commit()
    purge(session, store, TODAY, dry_run=True, include_unacknowledged=True)
    assert audit.entries(session) == []
    purge(session, store, TODAY, include_unacknowledged=True)
    entry, decision = audit.entries(session)  # newest first
    assert (decision.actor, decision.action) == (audit.CONSOLE, "purge-unacknowledged")
    assert (entry.actor, entry.action) == (audit.CONSOLE, "purge")
    assert '"items": 1' in entry.detail
    assert '"never_exported": 1' in entry.detail
    assert audit.verify(session).ok


class Recorder:
    """A progress bar that remembers what it was told."""

    def __init__(self) -> None:
        self.total: int | None = None
        self.advanced = 0

    def start(self, total: int) -> None:
        self.total = total

    def advance(self) -> None:
        self.advanced += 1


def test_progress_counts_every_file_removed(session: Session, store: EnvelopeStore) -> None:
    source = add_source(session, active=0)
    for _ in range(3):
        add_item(session, store, source, 100)
    session.commit()
    store.path(secrets.token_hex(16)).write_bytes(b"orphan")
    recorder = Recorder()
    purge(session, store, TODAY, grace=NOW, progress=recorder, include_unacknowledged=True)
    assert (recorder.total, recorder.advanced) == (4, 4)
    assert list(store.root.glob("*.rze")) == []


def test_an_item_exported_but_never_acknowledged_outlives_the_purge(
    session: Session, store: EnvelopeStore
) -> None:
    # The attack: the stick with the export is lost; day 90 comes. Before, the
    # purge deleted the item (exported, so not even counted as never exported).
    source = add_source(session, active=400)
    lost = add_item(session, store, source, 120)
    fresh = add_item(session, store, source, 100, exported=False)
    session.commit()
    report = purge(session, store, TODAY)
    assert (report.items, report.kept, report.sources) == (0, 2, 0)
    assert store.path(lost).exists()
    assert store.path(fresh).exists()
    assert session.get(Source, source.id) is not None  # its source stays with them
    (entry,) = audit.entries(session)
    assert '"kept": 2' in entry.detail


def test_deleting_unacknowledged_items_is_an_audited_decision(
    session: Session, store: EnvelopeStore, instance: Path, runner: CliRunner
) -> None:
    lost = add_item(session, store, add_source(session, active=0), 120)
    session.commit()
    base = ["--instance", str(instance), "purge"]
    result = runner.invoke(main, base)
    assert result.exit_code == 0, result.output
    assert "1 item(s) past retention were kept" in result.output
    assert "--include-unacknowledged" in result.output
    assert store.path(lost).exists()
    result = runner.invoke(main, [*base, "--include-unacknowledged"])
    assert result.exit_code == 0, result.output
    assert not store.path(lost).exists()
    session.expire_all()
    actions = [e.action for e in audit.entries(session)]
    assert actions == ["purge", "purge-unacknowledged", "purge"]


def test_items_exported_long_ago_and_still_here_are_counted_as_unacknowledged(
    session: Session, store: EnvelopeStore
) -> None:
    source = add_source(session, active=0)
    for age in (30, 14, 13):
        item = session.get(Item, add_item(session, store, source, 40))
        assert item is not None
        item.exported_day = days_ago(age)
    add_item(session, store, source, 40, exported=False)
    # Exported on the day they came, no export since: no day of their own but that one.
    add_item(session, store, source, 20)
    add_item(session, store, source, 5)
    session.commit()
    assert unacknowledged(session, TODAY) == 3
    assert unacknowledged(session, TODAY, older_than_days=0) == 5


def test_items_at_risk_are_those_not_exported_that_retention_takes_soon(
    session: Session, store: EnvelopeStore
) -> None:
    source = add_source(session, active=0)
    add_item(session, store, source, 95, exported=False)  # already due
    add_item(session, store, source, 80, exported=False)  # due in 10 days
    add_item(session, store, source, 70, exported=False)  # due in 20 days
    add_item(session, store, source, 85, exported=True)  # exported: not at risk
    session.commit()
    assert at_risk(session, TODAY) == 2
    assert at_risk(session, TODAY, within_days=30) == 3
    assert at_risk(session, TODAY, within_days=0) == 1


def test_purge_command_reports_a_dry_run_then_deletes(
    app: Flask, session: Session, store: EnvelopeStore, instance: Path, runner: CliRunner
) -> None:
    source = add_source(session, active=0)
    old = add_item(session, store, source, 120, exported=False)
    young = add_item(session, store, source, 1)
    session.commit()
    base = ["--instance", str(instance), "purge"]

    base += ["--include-unacknowledged"]
    result = runner.invoke(main, [*base, "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "dry run: nothing was changed" in result.output
    assert "would delete 1 item(s) (1 never exported)" in result.output
    assert "1 item(s) would be deleted before anyone exported them" in result.output
    assert store.path(old).exists()

    result = runner.invoke(main, base)
    assert result.exit_code == 0, result.output
    assert "deleted 1 item(s) (1 never exported)" in result.output
    assert not store.path(old).exists()
    assert store.path(young).exists()
    assert row_counts(app, Item)["items"] == 1


def test_purge_command_lists_rows_that_lost_their_file(
    session: Session, store: EnvelopeStore, instance: Path, runner: CliRunner
) -> None:
    lost = add_item(session, store, add_source(session, active=0), 1)
    session.commit()
    store.path(lost).unlink()
    result = runner.invoke(main, ["--instance", str(instance), "purge"])
    assert result.exit_code == 0, result.output
    assert "1 row(s) have lost their envelope file" in result.output
    assert f"item {lost}" in result.output


A_YEAR_ON = TODAY + dt.timedelta(days=365)


def test_a_clock_set_a_year_forward_expires_no_source(
    session: Session, store: EnvelopeStore
) -> None:
    """The daily purge ran today; then the clock jumps a year (a bad NTP answer, a seizer's
    hand): the next purge took a source active ten days ago for a year idle, and expired it
    with the reply waiting for it."""
    purge(session, store, TODAY)
    source = add_source(session, active=10)
    reply = add_reply(session, store, source)
    session.commit()
    source_id, entries = source.id, len(audit.entries(session))
    with contextlib.suppress(AppError):
        purge(session, store, A_YEAR_ON, include_unacknowledged=True)
    session.rollback()
    assert _source_ids(session) == [source_id], "a source active ten days ago was expired"
    assert store.path(reply).exists()
    assert len(audit.entries(session)) == entries, "the refused purge recorded a day"


def test_a_purge_after_a_week_off_goes_ahead_and_one_after_more_is_refused(
    session: Session, store: EnvelopeStore
) -> None:
    purge(session, store, TODAY)
    later = TODAY + dt.timedelta(days=CLOCK_JUMP_DAYS)
    assert purge(session, store, later, dry_run=True).day == later
    with pytest.raises(ClockJumped, match="nothing was purged"):
        purge(session, store, later + dt.timedelta(days=1), dry_run=True)


def _purge_on(
    session: Session, store: EnvelopeStore, day: dt.date, monkeypatch: pytest.MonkeyPatch
) -> PurgeReport:
    """Purge with the clock at `day` (the audit log dates its entries by the clock too)."""
    monkeypatch.setattr(audit, "today", lambda: day)
    return purge(session, store, day)


def test_a_clock_moved_a_week_each_day_expires_no_source(
    session: Session, store: EnvelopeStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whoever holds the clock (a spoofed NTP answer each day) moves it a week between two
    daily purges: each found only a week since the last, so in two months of real time the
    server reckoned a year, and expired a source active ten days before, reply and all."""
    purge(session, store, TODAY)
    source = add_source(session, active=10)
    reply = add_reply(session, store, source)
    session.commit()
    source_id, day, runs = source.id, TODAY, 0
    while day < A_YEAR_ON:
        day += dt.timedelta(days=CLOCK_JUMP_DAYS)
        with contextlib.suppress(ClockJumped):
            _purge_on(session, store, day, monkeypatch)
            runs += 1
        session.rollback()
    assert _source_ids(session) == [source_id], (
        f"a source active ten days ago was expired after {runs} purges, a week apart"
    )
    assert store.path(reply).exists()
    # The clock gained no more than the week a purge allows.
    assert runs <= 1


def test_purges_on_days_in_a_row_go_ahead_however_long(
    session: Session, store: EnvelopeStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    day = TODAY
    for _ in range(3 * CLOCK_JUMP_DAYS):
        _purge_on(session, store, day, monkeypatch)
        day += dt.timedelta(days=1)
    # A few days off among them (a host down, a timer missed) are within the week allowed.
    day += dt.timedelta(days=CLOCK_JUMP_DAYS - 1)
    assert _purge_on(session, store, day, monkeypatch).day == day


def test_an_operator_who_trusts_the_clock_purges_and_the_audit_log_says_so(
    session: Session, store: EnvelopeStore
) -> None:
    purge(session, store, TODAY)
    idle = add_source(session, active=10)
    session.commit()
    report = purge(session, store, A_YEAR_ON, trust_clock=True)
    assert report.sources == 1
    assert idle.id not in _source_ids(session)
    entry, trusted = audit.entries(session)[:2]  # newest first
    assert (trusted.action, entry.action) == ("purge-clock-trusted", "purge")
    assert '"days_since_last": 365' in trusted.detail


def test_before_the_first_purge_the_audit_log_dates_the_last_known_day(
    session: Session, store: EnvelopeStore
) -> None:
    audit.record(session, audit.CONSOLE, "staff-create", name="admin")
    source = add_source(session, active=10)
    session.commit()
    with pytest.raises(ClockJumped):
        purge(session, store, A_YEAR_ON)
    session.rollback()
    assert _source_ids(session) == [source.id]


def test_purge_command_refuses_a_jumped_clock_with_a_hint(
    session: Session,
    store: EnvelopeStore,
    instance: Path,
    runner: CliRunner,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    purge(session, store, TODAY)
    source = add_source(session, active=10)
    session.commit()
    monkeypatch.setattr("app.models.today", lambda: A_YEAR_ON)
    base = ["--instance", str(instance), "purge"]
    result = runner.invoke(main, base)
    assert result.exit_code == 1, result.output
    assert "raazdar: error: the clock says" in result.output
    assert "raazdar purge --trust-clock" in result.output
    assert "Traceback" not in result.output
    assert _source_ids(session) == [source.id]
    result = runner.invoke(main, [*base, "--trust-clock"])
    assert result.exit_code == 0, result.output
    assert _source_ids(session) == []


def _source_ids(session: Session) -> list[str]:
    """The sources the database holds now."""
    session.expire_all()
    return list(session.execute(select(Source.id)).scalars())
