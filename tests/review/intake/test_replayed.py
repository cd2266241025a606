"""An envelope exported again under another id is known for the copy it is, not filed as news.

A source's device, and the server's form, seal every envelope with fresh randomness:
the same bytes under two item ids were not sealed twice but copied. The server can
copy what it holds (it cannot open it) under a new id, a new submission and today's
day; filed as it came, a source's old words would read as a new report sent today
("meet me Friday at the old mill", again), a designation's report as another's.
"""

from __future__ import annotations

import secrets
import shutil
import sqlite3
from pathlib import Path

from sqlalchemy import select

from app.db import db_session
from app.models import Item
from app.store import EnvelopeStore
from review import workspace as ws
from review.workspace.schema import SCHEMA_VERSION
from tests.review.keys.test_planted_keyring import _as_the_tool_before_left_it
from tests.review.support import Server, review

WORDS = "meet me friday at the old mill, bring the ledger"


def _copied_by_the_server(server: Server, *, source_of: str | None = None) -> str:
    """Hold every item again under a new id and a new submission, as a hostile server can."""
    with server.app.app_context():
        session = db_session()
        store = EnvelopeStore(server.paths.store, server.paths.store)
        items = session.scalars(select(Item)).all()
        other = None
        if source_of is not None:
            other = next(i.source_id for i in items if i.id == source_of)
        submission = secrets.token_hex(16)
        for item in items:
            if item.id == source_of:
                continue
            new_id = secrets.token_hex(16)
            shutil.copy(store.path(item.id), store.stored_path(new_id))
            session.add(
                Item(
                    id=new_id,
                    source_id=other or item.source_id,
                    submission_id=submission,
                    kind=item.kind,
                    size=item.size,
                )
            )
        session.commit()
        return submission


def test_an_envelope_exported_again_under_a_new_id_is_not_filed_as_a_new_report(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    server.submit(WORDS)
    first = review(workspace, "import", str(server.export(tmp_path / "1.rzb")))
    assert first.exit_code == 0, first.output
    submission = _copied_by_the_server(server)

    again = review(workspace, "import", str(server.export(tmp_path / "2.rzb")))
    assert again.exit_code == 0, again.output
    assert "0 new report(s)" in again.output
    assert "copy" in again.output
    assert "report 1" in again.output
    listed = review(workspace, "list")
    assert listed.exit_code == 0, listed.output
    assert review(workspace, "show", "2").exit_code != 0

    # Only the original is acknowledged: the server keeps the copy, for staff to ask why.
    out = tmp_path / "r.rzr"
    exported = review(workspace, "export-replies", "--out", str(out))
    assert exported.exit_code == 0, exported.output
    assert "1 acknowledgement(s)" in exported.output
    server.apply(out)
    with server.app.app_context():
        assert [i.submission_id for i in db_session().scalars(select(Item))] == [submission]
    # Exported again (a resend), it is named again and still not filed.
    resent = review(workspace, "import", str(server.export(tmp_path / "3.rzb", resend=True)))
    assert resent.exit_code == 0, resent.output
    assert "is a copy, byte for byte" in resent.output
    assert review(workspace, "show", "2").exit_code != 0
    shown = review(workspace, "show", "1")
    assert WORDS in shown.output


def test_a_copy_under_another_sources_designation_is_not_filed_as_theirs(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    server.submit(WORDS)
    assert review(workspace, "import", str(server.export(tmp_path / "1.rzb"))).exit_code == 0
    server.submit("a second source's own report")
    with server.app.app_context():
        fresh = next(i.id for i in db_session().scalars(select(Item)) if not i.exported)
    # The first source's report, copied under the second source's designation.
    _copied_by_the_server(server, source_of=fresh)

    result = review(workspace, "import", str(server.export(tmp_path / "2.rzb")))
    assert result.exit_code == 0, result.output
    assert "1 new report(s)" in result.output  # the second source's own
    shown = review(workspace, "show", "2")
    assert "a second source's own report" in shown.output
    assert WORDS not in shown.output
    assert review(workspace, "show", "3").exit_code != 0


def test_a_copy_in_the_same_bundle_as_its_original_is_filed_once(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    server.submit(WORDS)
    _copied_by_the_server(server)

    result = review(workspace, "import", str(server.export(tmp_path / "1.rzb")))
    assert result.exit_code == 0, result.output
    assert "1 item(s) filed, 1 new report(s)" in result.output
    assert "(report 1), exported again under another id: not filed again" in result.output
    assert review(workspace, "show", "2").exit_code != 0


def test_a_version_11_workspace_gets_the_table_of_envelopes_filed(workspace: Path) -> None:
    conn = sqlite3.connect(workspace / ws.DB_NAME)
    conn.execute("DROP TABLE envelopes")
    conn.execute("UPDATE meta SET value = '11' WHERE key = 'schema'")
    conn.commit()
    conn.close()
    assert review(workspace, "list").exit_code == 0
    conn = sqlite3.connect(workspace / ws.DB_NAME)
    try:
        assert conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone() == (
            str(SCHEMA_VERSION),
        )
        assert conn.execute("SELECT count(*) FROM envelopes").fetchone() == (0,)
    finally:
        conn.close()


def test_an_envelope_filed_before_its_hash_was_kept_is_known_once_it_is_resent(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    """Schema 12 keeps the hash of envelopes filed since; one filed before had none, and its
    copy under a new id was filed as a new report. When the server exports it again under its
    own id (a resend: it still holds it until it is acknowledged), its hash is kept then."""
    server.submit(WORDS)
    assert review(workspace, "import", str(server.export(tmp_path / "1.rzb"))).exit_code == 0
    # As filed by a tool before schema 12, whose head's tag (form 1) the upgrade takes once.
    _as_the_tool_before_left_it(workspace, 1)
    conn = sqlite3.connect(workspace / ws.DB_NAME)
    conn.execute("DELETE FROM envelopes")
    conn.commit()
    conn.close()
    resent = review(workspace, "import", str(server.export(tmp_path / "2.rzb", resend=True)))
    assert resent.exit_code == 0, resent.output
    _copied_by_the_server(server)

    again = review(workspace, "import", str(server.export(tmp_path / "3.rzb")))

    assert again.exit_code == 0, again.output
    assert "0 new report(s)" in again.output
    assert "is a copy, byte for byte" in again.output
    assert review(workspace, "show", "2").exit_code != 0
