"""A seized server says when things arrived to the sweep's period at best, and never in which order.

A live instance (gunicorn, two workers) takes several submissions spread over
time, from the web form and from the end-to-end client (chunked API uploads);
its disk is copied as an adversary would (every stamp statx reports,
then the bytes, reading with O_NOATIME), once before the arrival sweep and
once after. btime is checked where the filesystem reports it (statx through
ctypes; Python 3.11's os.stat has no st_birthtime on Linux) and skipped
honestly where it does not.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.cli import main
from app.db import make_engine
from app.instance import InstancePaths, load_config
from app.models import Item
from app.store import HOLDING_NAME, EnvelopeStore
from crypto import Fingerprint, derive_source_keys, generate_codename, open_bytes
from submit import transport
from submit.protocol import Api
from submit.state import State
from submit.trust import KeyringDocument, establish
from submit.uploads import seal_submission, upload_pending
from tests.app.live import demo_instance, live_server
from tests.app.seizure import Seizure, Stamps, orders, seize
from tests.app.support import demo_authorities, reviewer_openers
from tests.app.test_concurrency import _submit

pytestmark = pytest.mark.slow

# One is deleted; the other 16 are enough for a chance ordering to be rarer than FALSE_ALARM.
SUBMISSIONS = 17
GAP = 0.3
# The most often the database check may call a random layout ordered (CI must not fail on chance).
FALSE_ALARM = Fraction(1, 1_000_000)
# The most the kernel's coarse clock (file stamps) lags time.time_ns(): one tick at HZ=100.
CLOCK_TICK = 10_000_000


def _sweep(instance: Path) -> tuple[int, int]:
    """Run `raazdar sweep --force`; return when it started and ended, in ns."""
    start = time.time_ns()
    result = CliRunner().invoke(main, ["--instance", str(instance), "sweep", "--force"])
    end = time.time_ns()
    assert result.exit_code == 0, result.output
    return start, end


def _send_with_client(base: str, pins: frozenset[Fingerprint], marker: str, workdir: Path) -> None:
    """Be a source with the end-to-end client: verify the keyring, seal, upload in chunks."""
    state = State(workdir / "state")
    api = Api(transport.session(None), base, timeout=(5.0, 30.0))
    document = KeyringDocument.parse(api.keyring())
    verified = establish(
        state, document, pins, dt.date.today(), lambda _fps: None, host=None, allow_test_kdf=True
    )
    keys = derive_source_keys(generate_codename(), verified.salt, verified.kdf)
    assert api.ensure_account(keys) is True
    evidence = workdir / "evidence.bin"
    evidence.write_bytes(f"{marker}\n".encode() * 4000)
    report = f'{{"format": 1, "message": "{marker} by the client"}}'.encode()
    recipients = verified.recipients(dt.date.today())
    seal_submission(state, verified.manifest, report, [evidence], keys=keys, recipients=recipients)
    assert len(upload_pending(api, keys, state, chunk_bytes=16 * 1024)) == 2


def _envelopes(instance: Path, seized: Seizure) -> dict[str, tuple[Path, int]]:
    """Each seized envelope by id: where it was, and which submission (by arrival) it came in."""
    keys = reviewer_openers(instance)
    found = {}
    for path, data in seized.data.items():
        if path.suffix == ".rze" and path.parent.name in {"store", HOLDING_NAME}:
            plaintext, _info = open_bytes(data, keys)
            index = next(i for i in range(SUBMISSIONS) if f"arrival-{i:02d}-".encode() in plaintext)
            found[path.stem] = (path, index)
    return found


def _in(value: int, window: tuple[int, int]) -> bool:
    """Say whether a file's stamp falls in a window measured with the fine clock.

    The kernel stamps files from its coarse clock, which lags the fine one by up to a
    tick, so a file made just after `window` began can be stamped up to a tick before it.
    """
    return window[0] - CLOCK_TICK <= value <= window[1]


@dataclass(frozen=True)
class Seized:
    """An instance, when its submissions came, what was deleted, and its disk before and after."""

    instance: Path
    windows: list[tuple[int, int]]
    doomed: list[str]
    before: Seizure
    after: Seizure
    sweep: tuple[int, int]

    @property
    def arrivals(self) -> tuple[int, int]:
        """From the start of the first submission to the end of the last, in ns."""
        return self.windows[0][0], self.windows[-1][1]


def _retouched(store: EnvelopeStore, ids: list[str], since: int, timeout: float = 10.0) -> None:
    """Wait until the server's re-touch of the held files, which runs off the request that
    made the last arrival (`app.store._Retoucher`), has reached them all. By `stat` of each
    by name: listing the holding directory would set its access time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all((store.holding / f"{i}.rze").stat().st_ctime_ns >= since for i in ids):
            return
        time.sleep(0.05)
    raise AssertionError("the held files were not re-touched after the last arrival")


@pytest.fixture(scope="module")
def seized(tmp_path_factory: pytest.TempPathFactory) -> Seized:
    """Run the instance, take the submissions, seize it before and after the sweep."""
    instance = demo_instance(tmp_path_factory.mktemp("arrival") / "instance")
    # The test's own reads of the instance happen before the arrivals (they would set atimes).
    pins = frozenset(k.verify_key.fingerprint for k in demo_authorities(instance))
    _sweep(instance)  # the previous period's sweep: store and marker exist
    time.sleep(GAP)
    windows: list[tuple[int, int]] = []
    with live_server(instance, workers=2) as base:
        for index in range(SUBMISSIONS):
            marker = f"arrival-{index:02d}-marker"
            start = time.time_ns()
            if index % 2:  # every other source uses the end-to-end client
                workdir = tmp_path_factory.mktemp(f"device-{index}")
                _send_with_client(base, pins, marker, workdir)
            else:
                assert _submit(base, marker) == (200, "filed")  # confirmed in place
            windows.append((start, time.time_ns()))
            time.sleep(GAP)
        # One submission is deleted (as acknowledgement would): its rows must leave no trace.
        engine = make_engine(load_config(InstancePaths(instance)).database_url_in(instance))
        paths = InstancePaths(instance)
        store = EnvelopeStore(paths.store, paths.staging)
        with Session(engine) as session:
            items = session.execute(select(Item.id, Item.submission_id)).all()
            _retouched(store, [i.id for i in items], since=windows[-1][0])
            doomed_submission = items[0].submission_id
            doomed = [i.id for i in items if i.submission_id == doomed_submission]
            session.execute(delete(Item).where(Item.submission_id == doomed_submission))
            session.commit()
        for item_id in doomed:
            store.delete(item_id)
        engine.dispose()
        time.sleep(GAP)
        before = seize(instance)
        sweep_window = _sweep(instance)
        after = seize(instance)
    return Seized(instance, windows, doomed, before, after, sweep_window)


# After the sweep.


def test_after_the_sweep_no_stamp_falls_between_the_first_arrival_and_the_sweep(
    seized: Seized,
) -> None:
    after = seized.after
    first, _ = seized.arrivals
    sweep_start, _ = seized.sweep
    dated = {
        f"{path.name} {name}": value
        for path, stamps in after.stamps.items()
        for name, value in stamps.times().items()
        if first < value < sweep_start - CLOCK_TICK
    }
    assert dated == {}


def test_after_the_sweep_envelope_stamps_say_only_when_the_sweep_ran(
    seized: Seized,
) -> None:
    after = seized.after
    window = seized.sweep
    envelopes = _envelopes(seized.instance, after)
    assert len(envelopes) == 2 * (SUBMISSIONS - 1)
    for path, _index in envelopes.values():
        assert path.parent.name == "store", path
        for name, value in after.stamps[path].times().items():
            assert value == 0 or _in(value, window), (path.name, name, value)


def test_after_the_sweep_nothing_orders_the_envelopes_of_different_submissions(
    seized: Seized,
) -> None:
    after = seized.after
    envelopes = _envelopes(seized.instance, after)
    ids = sorted(envelopes)
    groups = [envelopes[i][1] for i in ids]
    stamps: list[Stamps] = [after.stamps[envelopes[i][0]] for i in ids]
    store = envelopes[ids[0]][0].parent
    listed = after.listing[store]
    measures: dict[str, list[float]] = {
        "inode": [s.inode for s in stamps],
        "atime": [s.atime for s in stamps],
        "mtime": [s.mtime for s in stamps],
        "ctime": [s.ctime for s in stamps],
        "directory position": [listed.index(f"{i}.rze") for i in ids],
    }
    if all(s.btime is not None for s in stamps):
        measures["btime"] = [s.btime or 0 for s in stamps]
    ordering = [name for name, values in measures.items() if orders(values, groups)]
    assert ordering == []


def test_after_the_sweep_the_database_neither_orders_nor_keeps(
    seized: Seized,
) -> None:
    after = seized.after
    instance = seized.instance
    database = InstancePaths(instance).database
    wal = database.with_name(database.name + "-wal")
    assert after.data.get(wal, b"") == b""
    envelopes = _envelopes(instance, after)
    ids = sorted(envelopes)
    groups = [envelopes[i][1] for i in ids]
    content = after.data[database]
    places = [_places(content, i) for i in ids]
    assert min(len(p) for p in places) >= 1
    assert len(set(Counter(groups).values())) == 1, Counter(groups)
    layouts = _layouts(places, groups, _page_size(content))
    # Each layout is one test; together they keep the false-alarm bound, and a
    # submission order as plain as arrival's must be caught.
    alpha = FALSE_ALARM / len(layouts)
    submissions = len(set(groups))
    assert _chance_of_order(submissions, math.comb(submissions, 2)) < alpha
    ordering = {}
    for name, (values, present) in layouts.items():
        agreement = _kendall(values, present)
        if _chance_of_order(len(set(present)), abs(agreement)) < alpha:
            ordering[name] = agreement
    assert ordering == {}
    doomed = seized.doomed
    assert not any(i.encode() in content for i in doomed)


def _places(content: bytes, item_id: str) -> list[int]:
    from tests.app.seizure import offsets

    return offsets(content, item_id.encode())


def _page_size(database: bytes) -> int:
    """The page size an SQLite file's header gives (1 stands for 65536)."""
    size = int.from_bytes(database[16:18], "big")
    return 65_536 if size == 1 else size


Layout = tuple[list[int], list[int]]


def _layouts(places: list[list[int]], groups: list[int], page: int) -> dict[str, Layout]:
    """Every order a reader of the file could see: ids' k-th places, and their places in each page.

    Each is the places of the envelopes it covers, and their submissions. Within a page,
    an id's place is its first there: a page holds one table's or one index's cells.
    """
    layouts = {
        f"occurrence {k}": ([p[k] for p in places], groups)
        for k in range(min(len(p) for p in places))
    }
    for number in sorted({at // page for p in places for at in p}):
        inside = [
            (min(at for at in p if at // page == number), group)
            for p, group in zip(places, groups, strict=True)
            if any(at // page == number for at in p)
        ]
        layouts[f"page {number}"] = ([at for at, _ in inside], [g for _, g in inside])
    return layouts


def _kendall(values: Sequence[int], groups: Sequence[int]) -> int:
    """Kendall's S between arrival and where each submission first appears in `values`.

    Pairs of submissions whose places agree with their arrival count +1, the others -1:
    every pair agreeing (or every pair disagreeing) is the arrival order, as plain as can be.
    A submission's place is its first envelope's (places are distinct, so never tied): where
    nothing tells submissions apart but their arrival, their places are in a random order.
    """
    first: dict[int, int] = {}
    for value, group in zip(values, groups, strict=True):
        first[group] = min(value, first.get(group, value))
    assert len(set(first.values())) == len(first), first
    ranked = [first[g] for g in sorted(first)]
    return sum(1 if later > earlier else -1 for earlier, later in itertools.combinations(ranked, 2))


def _chance_of_order(submissions: int, agreement: int) -> Fraction:
    """The chance that a random order of `submissions` has |Kendall's S| >= `agreement`, exactly.

    S = pairs - 2 x inversions; the permutations of n by inversions are the Mahonian numbers.
    """
    counts = [1]
    for n in range(2, submissions + 1):
        counts = [sum(counts[max(0, k - n + 1) : k + 1]) for k in range(len(counts) + n - 1)]
    pairs = math.comb(submissions, 2)
    extreme = sum(c for k, c in enumerate(counts) if abs(pairs - 2 * k) >= agreement)
    return Fraction(extreme, math.factorial(submissions))


def test_the_chance_of_an_order_is_counted_over_every_permutation() -> None:
    for n in range(1, 7):
        found = Counter(
            abs(_kendall(list(order), list(range(n)))) for order in itertools.permutations(range(n))
        )
        for agreement in range(math.comb(n, 2) + 2):
            share = sum(c for s, c in found.items() if s >= agreement)
            assert _chance_of_order(n, agreement) == Fraction(share, math.factorial(n))


def test_a_database_in_arrival_order_or_nearly_would_be_caught() -> None:
    submissions = SUBMISSIONS - 1
    groups = [g for g in range(submissions) for _envelope in range(2)]
    alpha = FALSE_ALARM / 4  # as many layouts as a swept database shows: 2 per id, 2 pages
    # Submissions laid out in arrival order, reversed, and with two pairs of neighbours swapped.
    for layout in (
        list(range(submissions)),
        list(range(submissions))[::-1],
        [1, 0, 2, 3, 5, 4, *range(6, submissions)],
    ):
        places = [2 * layout[g] + i % 2 for i, g in enumerate(groups)]
        agreement = _kendall(places, groups)
        assert _chance_of_order(submissions, abs(agreement)) < alpha, layout
    # Odd submissions after even ones agree with arrival only half-way (S = 64 of 120 for 16);
    # chance does that about 1 time in 300, far too often to fail CI on.
    halves = [*range(0, submissions, 2), *range(1, submissions, 2)]
    places = [2 * halves.index(g) + i % 2 for i, g in enumerate(groups)]
    assert _chance_of_order(submissions, abs(_kendall(places, groups))) > alpha
    # With the former 5 submissions, even arrival order came by chance 1 time in 60.
    assert _chance_of_order(5, math.comb(5, 2)) == Fraction(1, 60)


# Before the sweep: exactly what docs/PROTOCOL.md §1.1 says a seizure then learns.


def test_before_the_sweep_new_envelopes_wait_in_holding_all_changed_at_the_latest_arrival(
    seized: Seized,
) -> None:
    before = seized.before
    windows = seized.windows
    envelopes = _envelopes(seized.instance, before)
    assert len(envelopes) == 2 * (SUBMISSIONS - 1)
    last_start = windows[-1][0]
    for path, _index in envelopes.values():
        assert path.parent.name == HOLDING_NAME
        stamps = before.stamps[path]
        assert (stamps.atime, stamps.mtime) == (0, 0)
        # The change time of every held file is the latest arrival's, whichever it was.
        assert stamps.ctime >= last_start


def test_before_the_sweep_creation_times_date_each_held_envelope(
    seized: Seized,
) -> None:
    before = seized.before
    envelopes = _envelopes(seized.instance, before)
    ids = sorted(envelopes)
    btimes = [before.stamps[envelopes[i][0]].btime for i in ids]
    if any(b is None for b in btimes):
        pytest.skip("this filesystem does not report creation times (statx btime)")
    # As documented: until the sweep, btime says when each held envelope's upload began.
    assert orders([b or 0 for b in btimes], [envelopes[i][1] for i in ids])


def test_before_the_sweep_the_store_directory_has_not_moved_and_the_others_say_the_latest(
    seized: Seized,
) -> None:
    before = seized.before
    instance = seized.instance
    paths = InstancePaths(instance)
    first, _ = seized.arrivals
    windows = seized.windows
    store = before.stamps[paths.store]
    assert all(v < first for v in store.times().values()), store
    for directory in (paths.store / HOLDING_NAME, paths.staging):
        stamps = before.stamps[directory]
        assert (stamps.atime, stamps.mtime) == (0, 0)
        # Their change times say when the latest submission (or deletion) was, no more.
        assert stamps.ctime >= windows[-1][0]


def test_before_the_sweep_the_wal_is_empty_and_deleted_rows_are_gone(
    seized: Seized,
) -> None:
    before = seized.before
    instance = seized.instance
    database = InstancePaths(instance).database
    wal = database.with_name(database.name + "-wal")
    assert before.data.get(wal, b"") == b""
    doomed = seized.doomed
    for path in (database, wal):
        assert not any(i.encode() in before.data.get(path, b"") for i in doomed)


def test_before_the_sweep_the_database_files_say_only_when_the_latest_write_was(
    seized: Seized,
) -> None:
    before = seized.before
    database = InstancePaths(seized.instance).database
    first, _ = seized.arrivals
    for name in (database.name, f"{database.name}-wal", f"{database.name}-shm"):
        stamps = before.stamps[database.with_name(name)]
        # Made when the server started; changed, if at all, by the latest write.
        assert stamps.btime is None or stamps.btime < first
        times = [v for v in (stamps.atime, stamps.mtime, stamps.ctime) if v > first]
        assert all(v >= seized.windows[-1][0] for v in times), (name, stamps)
