"""Contents read by worker processes during an import: the same readings as the importer's."""

from __future__ import annotations

import pickle
import resource
from pathlib import Path
from typing import Any

import pytest

from review.analysis.copies import WordHashes
from review.analysis.entities import extract
from review.analysis.records import Record, entities_context, read
from review.casework.reports import Content
from review.intake import ahead
from review.intake.ahead import Ahead
from review.intake.importer import import_bundle
from review.workspace import Unlocked
from review.workspace.search import SearchIndex
from tests.bench.review import make_bundle

TEXTS = [
    "SHO Rana Tariq of Thana Saddar, district Kasur, took Rs 40,000; call 0300-1234567.",
    "ایس ایچ او رانا طارق نے تھانہ صدر قصور میں پیسے لیے",
    "agent bashir ne fia ke munshi ko paise diye, 4 Mar 2024",
    "",
]
CONTENTS = [
    *(Content(message=t) for t in TEXTS),
    Content(message=TEXTS[2], fields={"agency": {"code": "fia", "label": "FIA"}}),
]


def test_workers_read_contents_as_the_importer_would() -> None:
    assert ahead.workers() >= 1, "this machine has one core: the workers are not tried"
    with Ahead(ahead.POOL_MIN) as found:
        for content in CONTENTS * 60:  # past one batch, with contents met again
            found.add(content)
        here = [read(c, WordHashes()) for c in CONTENTS]
        assert [found.read(c) for c in CONTENTS] == here
        # What no worker had started when asked was read here; the workers read the rest.
        assert 0 < found.pooled <= len(CONTENTS) * 60
        late = Content(message="DSP Model Town Lahore")  # never handed over: read here
        assert found.read(late) == read(late, WordHashes())
        # Readings are found by the very object handed over; an equal copy is read here, alike.
        copy = Content(message=TEXTS[0])
        assert copy is not CONTENTS[0]
        assert found.read(copy) == here[0]


def test_batches_no_worker_has_started_are_read_here_rather_than_waited_for() -> None:
    contents = [Content(message=f"{TEXTS[n % 3]} ({n})") for n in range(10 * ahead._BATCH + 7)]
    with Ahead(ahead.POOL_MIN) as found:
        for content in contents:
            found.add(content)
        # Asked at once, before a worker has even started: most is read here, all alike.
        readings = [found.read(c) for c in contents]
        assert found.pooled < len(contents) - ahead._BATCH
    assert readings == [read(c, WordHashes()) for c in contents]


def test_a_small_import_starts_no_worker() -> None:
    with Ahead(ahead.POOL_MIN - 1) as found:
        found.add(CONTENTS[0])
        assert found.read(CONTENTS[0]) == read(CONTENTS[0], WordHashes())
        assert found.pooled == 0


def _children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def _filed(u: Unlocked) -> tuple[list[Record], dict[int, str]]:
    """Each report's entity record, opened, and its text in the search index."""
    rows = u.conn.execute("SELECT report, sealed FROM report_entities ORDER BY report")
    records = [Record.decode(u.key.open_record(s, entities_context(n))) for n, s in rows]
    index = SearchIndex.load(u)
    nums = [n for (n,) in u.conn.execute("SELECT num FROM reports ORDER BY num")]
    return records, {n: index.text(n) for n in nums}


def test_an_import_files_the_same_with_workers_as_without(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle, new_workspace = make_bundle(40, tmp_path)
    alone, pooled = new_workspace(tmp_path / "alone"), new_workspace(tmp_path / "pooled")
    import_bundle(alone, bundle)
    monkeypatch.setattr(ahead, "POOL_MIN", 1)
    monkeypatch.setattr(ahead, "_BATCH", 5)  # batches sent, not all left to be read here
    before = _children_cpu()
    import_bundle(pooled, bundle)
    assert _children_cpu() > before  # a worker ran, and ended with the import
    assert _filed(pooled) == _filed(alone)
    assert len(_filed(alone)[0]) == 40


def test_a_reading_crosses_the_pipe_as_plain_tuples_and_merges_as_each_mention_would() -> None:
    text = (
        "SHO Rana Tariq of Thana Saddar Kasur; later Rana Tariq SHO again, and SHO Rana "
        "Tariq a third time. ایس ایچ او رانا طارق، تھانہ صدر قصور"
    )
    content = Content(message=text)
    reading = read(content, WordHashes())
    # No class of the extractor's is pickled: unpickling plain tuples is what the importer pays.
    assert b"Entity" not in pickle.dumps(reading)
    assert any(len(texts) > 1 or designations for _, _, texts, designations in reading.found)
    # The record is the one built mention by mention, spellings and ranks first seen first.
    expected: dict[tuple[str, str], dict[str, Any]] = {}
    for parts in ([content], [content, Content(message=TEXTS[0])]):
        expected.clear()
        for part in parts:
            for ent in extract(part.searchable()):
                entry = expected.setdefault(
                    (ent.kind, ent.key),
                    {"kind": ent.kind, "key": ent.key, "texts": [], "designations": []},
                )
                if ent.text not in entry["texts"]:
                    entry["texts"].append(ent.text)
                if ent.designation and ent.designation not in entry["designations"]:
                    entry["designations"].append(ent.designation)
        record = Record()
        record.merge(parts, WordHashes())
        assert record.found == list(expected.values())
