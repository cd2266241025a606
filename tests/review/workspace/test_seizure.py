"""A review workstation seized while powered off: what its workspace says without a passphrase.

The attack: after a full cycle (import, triage, notes, links, entities, a
conflict of interest routed away, a reply exported, an escalation), read the
workspace as someone who has the disk but no passphrase. Every table column,
every clear field of the audit records, every meta row and every kind of file
that holds anything readable is listed; the list must be exactly the one in
docs/REVIEW.md ("What a seizer learns"), so neither can change without the other.
The same seizer who later learns a source's codename (a coerced source, a
notebook found) must still open nothing in the workspace: not the reply sent.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
from pathlib import Path

import pytest

from app.demo import DEMO_PASSPHRASE
from crypto import KdfParams, KeyFile, KeyPair, SignedManifest
from crypto import derive_source_keys as derive
from crypto.encoding import canonical_json
from review import workspace as ws
from review.keys.enrolment import enrol_key
from review.workspace import drafts
from tests.review.escalation import test_escalation
from tests.review.escalation.test_escalation import SUMMARY, VICTIM, VICTIM_URDU, Case, _escalate
from tests.review.support import Server, all_bytes, opens_with, review

# Two reports in review and a registered body: the escalation tests' starting point.
case = test_escalation.case

DOC = Path(__file__).parents[3] / "docs" / "REVIEW.md"
BEGIN, END = "<!-- clear:begin -->", "<!-- clear:end -->"


def documented() -> set[str]:
    """The code spans that open each item of the marked list in docs/REVIEW.md (before `: `)."""
    text = DOC.read_text("utf-8")
    section = text[text.index(BEGIN) + len(BEGIN) : text.index(END)]
    items = re.split(r"^- ", section, flags=re.MULTILINE)[1:]
    return {span for item in items for span in re.findall(r"`([^`]+)`", item.split(": ")[0])}


def _is_sealed(value: object) -> bool:
    """Ciphertext: bytes that are not text (a sealed record, an envelope, a wrapped key)."""
    if not isinstance(value, bytes):
        return False
    try:
        text = value.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return not all(ch.isprintable() or ch.isspace() for ch in text)


def learnable(root: Path) -> set[str]:
    """Everything the workspace shows in the clear, named as docs/REVIEW.md names it."""
    found: set[str] = set()
    conn = sqlite3.connect(root / ws.DB_NAME)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            if table == "sqlite_sequence":
                continue
            columns = conn.execute(f"PRAGMA table_info({table})").fetchall()
            for _cid, column, declared, *_ in columns:
                values = [
                    r[0]
                    for r in conn.execute(f"SELECT {column} FROM {table}")  # noqa: S608
                    if r[0] is not None
                ]
                sealed = all(map(_is_sealed, values)) if values else declared == "BLOB"
                if not sealed and table not in {"meta", "audit"}:
                    found.add(f"{table}.{column}")
        for key, value in conn.execute("SELECT key, value FROM meta"):
            # One row per export bundle imported, per key in service, per reviewer holding subkeys.
            name = re.sub(r"^export-chain:.*", "export-chain:N", key)
            name = re.sub(r"^mark:.*", "mark:N", name)
            found.add(f"meta:{re.sub(r'^subkeys:.*', 'subkeys:R', name)}")
            assert isinstance(value, str)
        for (text,) in conn.execute("SELECT record FROM audit"):
            found |= {f"audit.record:{k}" for k in json.loads(text) if k != "sealed"}
        found |= {"audit.link", "audit.signer", "audit.signature", "audit.seq"}
    finally:
        conn.close()
    for path in root.rglob("*"):
        if path.is_file():
            relative = path.relative_to(root)
            found.add(
                f"file:{relative.parent}/*" if relative.parent != Path() else f"file:{relative}"
            )
    return found


def full_cycle(case: Case, server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Everything a reviewer does to a workspace, through the command line."""
    monkeypatch.setenv("RAAZDAR_REVIEWER", "demo-reviewer")
    root, num = case.workspace, str(case.english)
    # An attachment too large to keep inline: a blob file of its own.
    server.submit(
        "A video of the handover.", [("files", "v.mp4", os.urandom(300_000), "video/mp4")]
    )
    assert review(root, "import", str(server.export(tmp_path / "big.rzb"))).exit_code == 0
    note = tmp_path / "note.txt"
    note.write_text("The second source saw the same agent.")
    reply = tmp_path / "reply.txt"
    reply.write_text("Which police station? کون سا تھانہ؟")
    u = ws.Workspace.open(root).unlock("demo-reviewer", lambda _: DEMO_PASSPHRASE)
    data = KeyFile.create(
        KeyPair.generate(), "pw", kind="reviewer", label="second", params=KdfParams.TESTING
    ).to_bytes()
    enrol_key(u, reviewer="second", name="Second", key_file=data, ask=lambda _: "pw")
    # A reply left in the editor when a command locked (`review.cli.idle`).
    drafts.keep(u, {f"reply:{num}": "Which police station were you taken to?"})
    u.workspace.close()
    for args in [
        ("tag", num, "sale", "gujrat"),
        ("agency", num, "Punjab Police"),
        ("district", num, "Gujrat"),
        ("category", num, "trafficking"),
        ("severity", num, "high", "--danger"),
        ("assign", num, "demo-reviewer"),
        ("note", num, "--file", str(note)),
        ("link", num, str(case.urdu)),
        ("entity-add", num, "person", "Rana Tariq"),
        ("link-confirm", num, str(case.urdu), "Rana Tariq", "--kind", "person"),
        ("reply", num, "--file", str(reply)),
        ("keys", "subkeys", "new", "--out", str(tmp_path / "subkeys.json")),
    ]:
        result = review(root, *args)
        assert result.exit_code == 0, (args, result.output)
    _escalate(case)
    declared = review(root, "conflicts", "declare", "--district", "Gujrat")
    assert declared.exit_code == 0, declared.output
    exported = review(root, "export-replies", "--out", str(tmp_path / "r.rzr"))
    assert exported.exit_code == 0, exported.output
    # The keyring as `keys install` stores it (the demo's authorities are not the ones
    # this workspace pinned, so it is stored here as it would be, not installed).
    published = server.app.test_client().get("/api/v1/keyring").get_json()
    signed = SignedManifest.from_bytes(canonical_json(published["manifests"][-1]))
    conn = sqlite3.connect(root / ws.DB_NAME)
    conn.execute("INSERT INTO keyrings VALUES (?, ?)", (signed.manifest.version, signed.to_bytes()))
    conn.commit()
    conn.close()
    assert review(root, "audit", "verify").exit_code == 0


def test_what_a_seized_workspace_shows_is_exactly_what_the_docs_say(
    case: Case, server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    full_cycle(case, server, tmp_path, monkeypatch)
    seen, doc = learnable(case.workspace), documented()
    assert (sorted(seen - doc), sorted(doc - seen)) == ([], [])


def test_a_sources_codename_opens_nothing_in_a_seized_workspace(
    case: Case, server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The disk and no passphrase, then the codename of the source who was sent a reply."""
    full_cycle(case, server, tmp_path, monkeypatch)
    salt, kdf = server.app.config["CODENAME_SALT"], server.app.config["CODENAME_KDF"]
    keys = [derive(codename, salt, kdf).private_key for codename in case.codenames]
    assert opens_with(case.workspace, keys) == []


def test_no_file_in_the_workspace_says_when_it_was_written(
    case: Case, server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    full_cycle(case, server, tmp_path, monkeypatch)
    stamps = {
        str(p.relative_to(case.workspace)): os.stat(p).st_mtime
        for p in [case.workspace, *case.workspace.rglob("*")]
    }
    assert {name for name, mtime in stamps.items() if mtime != 0} == set()
    assert any(name.startswith("blobs/") for name in stamps)


def test_no_word_a_report_says_or_a_reviewer_wrote_is_in_a_seized_workspaces_bytes(
    case: Case, server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every file of the workspace read byte by byte (the database's freed pages and any
    journal with it) for what the cycle's reports said and its reviewers wrote about them."""
    full_cycle(case, server, tmp_path, monkeypatch)
    words = [
        VICTIM,
        VICTIM_URDU,
        "Rana Tariq",
        "Chak 41",
        "Gujrat",
        "gujrat",
        "Punjab Police",
        "A video of the handover",
        "The second source saw the same agent",
        "Which police station",
        "IMG_0042",
        "ledger.pdf",
        SUMMARY,
        "Anti-Trafficking Cell",
        "By hand, to the registrar",
    ]
    found = {
        (str(path.relative_to(case.workspace)), word)
        for path, data in all_bytes(case.workspace)
        for word in words
        if word.encode("utf-8") in data or word.encode("utf-16-le") in data
    }
    assert found == set()
