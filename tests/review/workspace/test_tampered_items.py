"""What the workstation's disk says of each item and export bundle, changed for a night.

The attack, as in test_tampered_rows.py: whoever can write where the workspace lies
changes a row the tool reads in the clear. Schema 14's tag left out three of an
item's columns (`items.info`, `problem`, `bundle`) and the export bundles' own rows
(`bundles`): with `info` cleared, a report's own words were shown as nothing at all,
with nothing said; with `problem` rewritten, the tool told the reviewer, in its own
voice, why an item is unread in the words of whoever held the disk; with
`bundles.keyring_version` lowered, `keys timestamp` vouched for a keyring a later
one replaced. Form 4 of the head's tag (schema 15) covers every column of both.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from app.demo import DEMO_PASSPHRASE
from app.keyring import manifest_path
from crypto import SignedManifest
from crypto.encoding import b64encode, canonical_json
from review import workspace as ws
from review.casework import reports
from review.errors import UnlockError
from review.workspace import head, roster
from review.workspace.schema import SCHEMA_VERSION, transaction
from tests.app.support import install_successor
from tests.review.keys.test_instance_keyring import first_keyring, init, timestamp
from tests.review.subkey_bundles import Chain, record
from tests.review.support import Server, on_the_disk, review
from tests.review.workspace.test_escalation_seized import keep_as_schema_15
from tests.review.workspace.test_tampered_rows import ALTERED, _taken

PLANTED = "sealed to reviewer second: import it unlocked as them"


def test_a_reports_text_hidden_on_the_disk_is_refused_at_unlock(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    """The report's own item with its sealed info cleared: its words were not shown, and
    nothing said they were missing (a filed report's item is listed nowhere else)."""
    server.submit("The SHO at Kotri took money to let the girls across.")
    assert review(workspace, "import", str(server.export(tmp_path / "e.rzb"))).exit_code == 0
    with on_the_disk(workspace) as conn:
        conn.execute("UPDATE items SET info = NULL WHERE kind = 'report'")

    def shown(u: object) -> object:
        view = reports.read_report(u, 1)  # type: ignore[arg-type]
        return (len(view.contents), view.missing_text())

    found = _taken(workspace, shown)
    assert isinstance(found, UnlockError), (
        f"a report whose info was cleared on the disk was taken: (texts shown, said) = {found}"
    )
    assert ALTERED in str(found)


def _damaged(server: Server, workspace: Path, tmp_path: Path) -> None:
    """A report the server sent damaged: kept, and the reviewer told why."""
    chain = Chain(server, tmp_path)
    bundle = chain.bundle([b"not an envelope: " + record("lost words")], dt.date.today())
    done = review(workspace, "import", str(bundle))
    assert done.exit_code == 0, done.output
    with on_the_disk(workspace) as conn:
        (status,) = conn.execute("SELECT status FROM items").fetchone()
    assert status == "damaged"


@pytest.mark.parametrize(
    "changed",
    [
        ("UPDATE items SET problem = ?", PLANTED),
        ("UPDATE items SET problem = NULL WHERE ? IS NOT NULL", ""),
        ("UPDATE items SET bundle = ?", "0" * 32),
    ],
    ids=["problem-rewritten", "problem-cleared", "bundle-changed"],
)
def test_an_items_problem_or_bundle_changed_on_the_disk_is_refused_at_unlock(
    server: Server, workspace: Path, tmp_path: Path, changed: tuple[str, str]
) -> None:
    """Why an item is unread is the tool's word to the reviewer: rewritten, a report the
    server sent damaged was shown as one waiting for a colleague. Which bundle an item
    came in is read by nothing today: covered so that nothing that reads it must recall."""
    _damaged(server, workspace, tmp_path)
    with on_the_disk(workspace) as conn:
        conn.execute(*((changed[0], (changed[1],))))

    def said(u: object) -> object:
        return reports.read_report(u, 1).missing_text()  # type: ignore[arg-type]

    found = _taken(workspace, said)
    assert isinstance(found, UnlockError), f"an item changed on the disk was taken: {found!r}"
    assert ALTERED in str(found)


def test_the_keyring_an_export_named_lowered_on_the_disk_lets_no_timestamp_through(
    server: Server, tmp_path: Path
) -> None:
    """`keys timestamp` refuses a keyring older than one the server's exports named
    (`bundles.keyring_version`): lowered on the disk, it vouched for the replaced one,
    which the server could then serve again to every device verifying from its pins."""
    root = tmp_path / "workspace"
    first = first_keyring(server, tmp_path)
    assert init(root, server, "--keyring", str(first)).exit_code == 0
    v1 = SignedManifest.from_bytes(manifest_path(server.paths, 1).read_bytes()).manifest
    install_successor(server.instance, v1.recipients)
    server.submit("a report")
    assert review(root, "import", str(server.export(tmp_path / "export.rzb"))).exit_code == 0
    with on_the_disk(root) as conn:
        conn.execute("UPDATE bundles SET keyring_version = 1")
    key = str(server.paths.demo_keys / "timestamp.key")
    stamp = tmp_path / "timestamp.json"
    made = timestamp(root, "--key-file", key, "--out", str(stamp))
    assert made.exit_code == 1, f"a timestamp vouched for keyring v1: {stamp.exists()}"
    assert ALTERED in made.output, made.output
    assert not stamp.exists()


def _as_schema_14_left_it(root: Path) -> str:
    """Tag the head in form 3, with the roster's word and the schema as the tool of schema 14
    left them; the tag."""
    u = ws.Workspace.open(root).unlock("demo-reviewer", lambda _label: DEMO_PASSPHRASE)
    try:
        stored = json.loads(
            u.conn.execute("SELECT value FROM meta WHERE key = 'roster'").fetchone()[0]
        )
        listed = {"keys": stored["keys"], "reviewers": stored["reviewers"], roster.HEAD_KEPT: 3}
        kept = {**listed, "tag": b64encode(u.key.roster_tag(canonical_json(listed)))}
        with transaction(u.conn):
            keep_as_schema_15(u.conn, u.key)  # the escalations' columns form 3 covers
            before = b64encode(head._tag(u.conn, u.key, head.stored(u.conn), form=3))
            u.conn.execute("UPDATE meta SET value = ? WHERE key = ?", (before, head.TAG))
            u.conn.execute("UPDATE meta SET value = ? WHERE key = 'roster'", (json.dumps(kept),))
            u.conn.execute("UPDATE meta SET value = '14' WHERE key = 'schema'")
    finally:
        u.workspace.close()
    return before


@pytest.mark.parametrize("schema", ["kept", "put-back"])
def test_a_workspace_of_schema_14_is_tagged_anew_once_and_its_tag_never_taken_again(
    server: Server, workspace: Path, tmp_path: Path, schema: str
) -> None:
    """The first unlock by this tool takes the form-3 tag the roster names and tags the head
    in form 5; that tag, kept in a copy of the disk from before and put back beside a report's
    cleared info (which form 3 does not cover), is refused."""
    server.submit("The SHO at Kotri took money to let the girls across.")
    assert review(workspace, "import", str(server.export(tmp_path / "e.rzb"))).exit_code == 0
    copied = _as_schema_14_left_it(workspace)
    listed = review(workspace, "list")
    assert listed.exit_code == 0, listed.output
    with on_the_disk(workspace) as conn:
        assert roster.head_form(conn) == head.FORM
        assert conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone() == (
            str(SCHEMA_VERSION),
        )
        conn.execute("UPDATE items SET info = NULL WHERE kind = 'report'")
        conn.execute("UPDATE meta SET value = ? WHERE key = ?", (copied, head.TAG))
        if schema == "put-back":
            conn.execute("UPDATE meta SET value = '14' WHERE key = 'schema'")
    listed = review(workspace, "list")
    assert listed.exit_code == 1, f"the form-3 tag was taken again: {listed.output}"
    assert ALTERED in listed.output, listed.output
