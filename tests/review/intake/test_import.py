"""Import: refused whole when a bundle does not verify, idempotent, loud about unreadable items."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import secrets
import sqlite3
import unicodedata
from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.demo import DEMO_PASSPHRASE
from app.keyring import manifest_path
from crypto import (
    HybridPrivateKey,
    KdfParams,
    KeyFile,
    KeyPair,
    Manifest,
    Metadata,
    PrivateKey,
    PublicKey,
    Recipient,
    SignedManifest,
    SigningKey,
    derive_source_keys,
    generate_codename,
    seal_bytes,
)
from crypto.binding import ReplyPrekeys, SourceBinding
from crypto.encoding import canonical_json
from crypto.envelope.metadata import KeyringSeen
from crypto.errors import FormatError
from crypto.exchange import ExportEntry, ExportManifest, new_bundle_id, write_export
from review import workspace as ws
from review.casework.replies import export_replies, queue_reply
from review.casework.triage import Filters, list_reports
from review.errors import ImportRefused, ReviewError
from review.intake import importer
from review.intake.importer import import_bundle
from review.present.text import SHOWN_MAX
from review.workspace import audit, search
from tests.app.support import install_successor, new_reviewer
from tests.review.subkey_bundles import Chain, seal_report
from tests.review.support import Server, review, snapshot


@pytest.fixture
def bundle(server: Server, tmp_path: Path) -> Path:
    """An export bundle of one report with one attachment."""
    server.submit(
        "a report to import", [("files", "a.pdf", b"%PDF-1.4 evidence", "application/pdf")]
    )
    return server.export(tmp_path / "export.rzb")


def _damaged(bundle: Path, tmp_path: Path, how: str) -> Path:
    data = bytearray(bundle.read_bytes())
    size = len(data)
    kind, _, where = how.partition(":")
    position = {"start": 3, "manifest": 40, "signature": None, "item": size // 2, "end": size - 1}
    if kind == "flip":
        if where == "signature":
            manifest_length = int.from_bytes(data[18:22], "big")
            index = 22 + manifest_length + 10
        else:
            index = position[where] or 0
        data[index] ^= 0x01
    elif kind == "truncate":
        data = data[: int(where)] if where.isdigit() else data[: size - 1]
    elif kind == "extend":
        data += b"\x00"
    out = tmp_path / f"damaged-{kind}-{where}.rzb"
    out.write_bytes(bytes(data))
    return out


DAMAGE = [
    "flip:start",
    "flip:manifest",
    "flip:signature",
    "flip:item",
    "flip:end",
    "truncate:0",
    "truncate:30",
    "truncate:last",
    "extend:",
]


@pytest.mark.parametrize("how", DAMAGE)
def test_a_damaged_bundle_is_refused_and_changes_nothing(
    bundle: Path, unlocked: ws.Unlocked, workspace: Path, tmp_path: Path, how: str
) -> None:
    damaged = _damaged(bundle, tmp_path, how)
    before = snapshot(workspace)
    with pytest.raises(ImportRefused):
        import_bundle(unlocked, damaged)
    assert snapshot(workspace) == before
    assert list_reports(unlocked, Filters(include_closed=True)) == []


def test_every_flipped_byte_is_refused(
    bundle: Path, unlocked: ws.Unlocked, workspace: Path, tmp_path: Path
) -> None:
    data = bundle.read_bytes()
    before = snapshot(workspace)
    target = tmp_path / "flipped.rzb"
    for position in range(0, len(data), 7):
        flipped = bytearray(data)
        flipped[position] ^= 0x80
        target.write_bytes(bytes(flipped))
        with pytest.raises(ImportRefused):
            import_bundle(unlocked, target)
    assert snapshot(workspace) == before


def test_the_cli_refuses_a_damaged_bundle_with_an_error_and_a_hint(
    bundle: Path, workspace: Path, tmp_path: Path
) -> None:
    result = review(workspace, "import", str(_damaged(bundle, tmp_path, "flip:item")))
    assert result.exit_code == 1
    assert "raazdar-review: error: bundle refused" in result.output
    assert "raazdar-review: hint:" in result.output


def test_a_bundle_for_another_instance_is_refused(
    server: Server, bundle: Path, tmp_path: Path
) -> None:
    root = tmp_path / "elsewhere"
    result = review(
        root,
        "init",
        "--instance-id",
        "0" * 32,
        "--server-key",
        server.signing_key_text,
        "--key-file",
        str(server.reviewer_key_file),
        "--reviewer",
        "demo-reviewer",
    )
    assert result.exit_code == 0, result.output
    result = review(root, "import", str(bundle))
    assert result.exit_code == 1
    assert "another Raazdar instance" in result.output


def test_a_bundle_signed_by_a_key_not_pinned_is_refused(
    server: Server, bundle: Path, tmp_path: Path
) -> None:
    from crypto import SigningKey

    root = tmp_path / "other-server"
    result = review(
        root,
        "init",
        "--instance-id",
        server.instance_id,
        "--server-key",
        SigningKey.generate().verify_key.to_text(),
        "--key-file",
        str(server.reviewer_key_file),
        "--reviewer",
        "demo-reviewer",
    )
    assert result.exit_code == 0, result.output
    result = review(root, "import", str(bundle))
    assert result.exit_code == 1
    assert "pinned" in result.output


def test_progress_is_reported_for_every_item(bundle: Path, unlocked: ws.Unlocked) -> None:
    seen: list[tuple[int, int]] = []
    import_bundle(unlocked, bundle, lambda done, total: seen.append((done, total)))
    assert seen == [(1, 2), (2, 2)]


def test_importing_twice_changes_nothing(
    bundle: Path, unlocked: ws.Unlocked, workspace: Path
) -> None:
    first = import_bundle(unlocked, bundle)
    assert (first.filed, first.new_reports, first.problems) == (2, 1, [])
    before = snapshot(workspace)
    second = import_bundle(unlocked, bundle)
    assert (second.filed, second.already, second.new_reports) == (0, 2, 0)
    assert snapshot(workspace) == before


# The administrator's passphrase, then the new key's, typed by its holder.
HOLDER = f"{DEMO_PASSPHRASE}\n{DEMO_PASSPHRASE}"


def _key_file(
    tmp_path: Path, name: str, passphrase: str = DEMO_PASSPHRASE
) -> tuple[Path, Recipient]:
    keys, recipient = new_reviewer(name)
    path = tmp_path / f"{name}.key"
    data = KeyFile.create(
        keys, passphrase, kind="reviewer", label=name, params=KdfParams.TESTING
    ).to_bytes()
    path.write_bytes(data)
    # Listed as in a keyring of format 2, which these tests' server has.
    return path, dataclasses.replace(recipient, hybrid_key=None)


def test_an_item_sealed_to_no_enrolled_key_is_reported_kept_and_not_acknowledged(
    server_format_2: Server, workspace_format_2: Path, tmp_path: Path
) -> None:
    # Keyring format 2 (v1) for routing by long-term key: under format 3 a new key needs its
    # subkey list first (tests/review/test_cycle.py rotates so), and an item sealed to another
    # reviewer's subkey is reported as such, not by their name (the next test).
    server, workspace = server_format_2, workspace_format_2
    key_file, stranger = _key_file(tmp_path, "stranger")
    install_successor(server.instance, [stranger])
    server.submit("sealed to a reviewer this workspace does not know")
    bundle = server.export(tmp_path / "export.rzb")

    result = review(workspace, "import", str(bundle))
    assert result.exit_code == 0, result.output
    assert "0 item(s) filed, 1 new report(s)" in result.output
    assert "sealed to no key enrolled in this workspace" in result.output
    assert "1 unreadable" in review(workspace, "list").output
    shown = review(workspace, "show", "1").output
    assert "pending" in shown
    assert "sealed to no key enrolled" in shown
    replies = tmp_path / "r.rzr"
    exported = review(workspace, "export-replies", "--out", str(replies))
    assert exported.exit_code == 0, exported.output
    assert "0 acknowledgement(s)" in exported.output  # so the server keeps the item

    # Once that reviewer is enrolled and imports, the same bundle files the item.
    assert (
        review(
            workspace,
            "enrol",
            "--key-file",
            str(key_file),
            "--reviewer",
            "stranger",
            passphrase=HOLDER,
        ).exit_code
        == 0
    )
    again = review(workspace, "--as", "stranger", "import", str(bundle))
    assert again.exit_code == 0, again.output
    assert "1 item(s) filed, 0 new report(s)" in again.output
    assert "sealed to no key" not in review(workspace, "--as", "stranger", "show", "1").output


def test_an_item_sealed_to_a_weekly_subkey_not_held_here_is_reported_as_one(
    server: Server, unlocked: ws.Unlocked, tmp_path: Path
) -> None:
    # Keyring format 3 (the demo server's): sealers seal v2 to weekly subkeys, which only
    # their reviewer's workstation knows. One sealed to someone else's is not "no key enrolled".
    elsewhere, chain = HybridPrivateKey.generate().public_key, Chain(server, tmp_path)
    bundle = chain.bundle([seal_report("for another", elsewhere)], dt.date.today())
    summary = import_bundle(unlocked, bundle)
    assert summary.filed == 0
    [problem] = summary.problems
    assert f"sealed to a weekly subkey {unlocked.reviewer} does not hold" in problem
    assert "another reviewer's (import it unlocked as them)" in problem
    assert "no key enrolled" not in problem
    # A v1 envelope to a key nobody enrolled is still reported as that, under format 3 too.
    stranger = PrivateKey.generate().public_key
    bundle = chain.bundle([seal_report("for nobody", stranger)], dt.date.today())
    [problem] = import_bundle(unlocked, bundle).problems
    assert "sealed to no key enrolled in this workspace" in problem


def test_an_item_sealed_to_a_reviewer_the_keyring_lists_but_nobody_enrolled_names_them(
    server_format_2: Server,
    workspace_format_2: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server, workspace = server_format_2, workspace_format_2
    _, listed = _key_file(tmp_path, "listed")
    in_force = install_successor(server.instance, [listed])
    server.submit("for a reviewer the keyring lists")
    bundle = server.export(tmp_path / "export.rzb")
    # The workspace has the server's keyring in force (a demo workspace, pinning no
    # authorities, has none installed): it lists that reviewer, whom nobody enrolled here.
    monkeypatch.setattr(ws.Workspace, "keyring", lambda _self: in_force)
    result = review(workspace, "import", str(bundle))
    assert result.exit_code == 0, result.output
    assert (
        "sealed to reviewer listed's key in the keyring, not enrolled in this workspace"
        in result.output
    )
    assert "no key enrolled" not in result.output


def test_an_item_sealed_to_another_enrolled_reviewer_names_them(
    server_format_2: Server, workspace_format_2: Path, tmp_path: Path
) -> None:
    # Keyring format 2 (v1) for routing by long-term key: under format 3 a new key needs its
    # subkey list first (tests/review/test_cycle.py rotates so), and an item sealed to another
    # reviewer's subkey is reported as such, not by their name (the next test).
    server, workspace = server_format_2, workspace_format_2
    key_file, other = _key_file(tmp_path, "other")
    assert (
        review(
            workspace,
            "enrol",
            "--key-file",
            str(key_file),
            "--reviewer",
            "other",
            passphrase=HOLDER,
        ).exit_code
        == 0
    )
    install_successor(server.instance, [other])
    server.submit("only for the other reviewer")
    result = review(
        workspace, "--as", "demo-reviewer", "import", str(server.export(tmp_path / "e.rzb"))
    )
    assert "sealed to reviewer other: import it unlocked as them" in result.output


def test_reports_sealed_before_and_after_a_key_rotation_are_all_readable(
    server_format_2: Server, workspace_format_2: Path, tmp_path: Path
) -> None:
    # Keyring format 2 (v1) for routing by long-term key: under format 3 a new key needs its
    # subkey list first (tests/review/test_cycle.py rotates so), and an item sealed to another
    # reviewer's subkey is reported as such, not by their name (the next test).
    server, workspace = server_format_2, workspace_format_2
    server.submit("before the rotation")
    assert review(workspace, "import", str(server.export(tmp_path / "one.rzb"))).exit_code == 0
    key_file, rotated = _key_file(tmp_path, "demo-reviewer")
    assert (
        review(
            workspace,
            "enrol",
            "--key-file",
            str(key_file),
            "--reviewer",
            "demo-reviewer",
            passphrase=HOLDER,
        )
    ).exit_code == 0
    install_successor(server.instance, [rotated])
    server.submit("after the rotation")
    result = review(workspace, "import", str(server.export(tmp_path / "two.rzb")))
    assert "1 item(s) filed, 1 new report(s)" in result.output, result.output
    assert "before the rotation" in review(workspace, "show", "1").output
    assert "after the rotation" in review(workspace, "show", "2").output
    assert review(workspace, "audit", "verify").exit_code == 0  # signed by the new key now


def _consistent_blobs(workspace: Path) -> None:
    """Every blob an item names exists, and no blob file is left that no item names."""
    db = sqlite3.connect(workspace / ws.DB_NAME)
    named = {row[0] for row in db.execute("SELECT blob FROM items")}
    inline = {row[0] for row in db.execute("SELECT name FROM blob_data")}
    db.close()
    files = {p.name for p in (workspace / "blobs").iterdir()}
    assert files | inline == named
    assert not files & inline


def test_damaged_and_foreign_items_inside_a_valid_bundle_are_kept_and_reported(
    server: Server, unlocked: ws.Unlocked, workspace: Path, tmp_path: Path
) -> None:
    reviewer = KeyFile.from_bytes(server.reviewer_key_file.read_bytes()).encryption_public
    assert reviewer is not None
    report = json.dumps({"format": 1, "message": "crafted", "fields": {}, "language": "en"})
    envelopes = {
        "good": seal_bytes(report.encode(), [reviewer], Metadata("report", "application/json")),
        "truncated": seal_bytes(
            b"x" * 300_000, [reviewer], Metadata("file", "application/pdf", "big.pdf")
        )[:-100],
        "garbage": b"not an envelope at all",
        "foreign": seal_bytes(b"secret", [PrivateKey.generate().public_key], Metadata("file")),
    }
    submission, files, entries = secrets.token_hex(16), [], []
    for name, data in envelopes.items():
        path = tmp_path / f"{name}.rze"
        path.write_bytes(data)
        files.append(path)
        kind = "report" if name == "good" else "file"
        entries.append(
            ExportEntry(secrets.token_hex(16), submission, "Crafted source", kind, dt.date.today())
        )
    manifest = ExportManifest(
        new_bundle_id(),
        server.instance_id,
        dt.date.today(),
        1,
        tuple(entries),
        {"Crafted source": PrivateKey.generate().public_key},
    )
    bundle = tmp_path / "crafted.rzb"
    with bundle.open("wb") as dst:
        write_export(
            dst, manifest, files, SigningKey.from_text(server.paths.signing_key.read_text())
        )

    summary = import_bundle(unlocked, bundle)
    assert (summary.filed, summary.new_reports) == (1, 1)
    problems = "\n".join(summary.problems)
    assert problems.count("damaged envelope") == 2
    assert "sealed to no key enrolled" in problems
    _consistent_blobs(workspace)
    shown = review(workspace, "show", "1").output
    assert "crafted" in shown
    assert shown.count("damaged: damaged envelope") == 2
    assert "pending: sealed to no key" in shown

    before = snapshot(workspace)
    again = import_bundle(unlocked, bundle)
    assert (again.filed, again.already, len(again.problems)) == (0, 1, 3)
    assert snapshot(workspace) == before


def _bundle_of(server: Server, tmp_path: Path, envelopes: dict[str, tuple[str, bytes]]) -> Path:
    """A bundle of one submission from crafted envelopes, each with the kind it is filed as."""
    submission, files, entries = secrets.token_hex(16), [], []
    for name, (kind, data) in envelopes.items():
        path = tmp_path / f"{name}.rze"
        path.write_bytes(data)
        files.append(path)
        entries.append(
            ExportEntry(secrets.token_hex(16), submission, "Crafted source", kind, dt.date.today())
        )
    manifest = ExportManifest(
        new_bundle_id(),
        server.instance_id,
        dt.date.today(),
        1,
        tuple(entries),
        {"Crafted source": PrivateKey.generate().public_key},
    )
    bundle = tmp_path / "crafted.rzb"
    with bundle.open("wb") as dst:
        write_export(
            dst, manifest, files, SigningKey.from_text(server.paths.signing_key.read_text())
        )
    return bundle


def test_a_damaged_report_envelope_says_the_reports_text_is_missing(
    server: Server, unlocked: ws.Unlocked, workspace: Path, tmp_path: Path
) -> None:
    reviewer = KeyFile.from_bytes(server.reviewer_key_file.read_bytes()).encryption_public
    assert reviewer is not None
    report = json.dumps({"format": 1, "message": "lost words " * 40000, "fields": {}})
    sealed = seal_bytes(report.encode(), [reviewer], Metadata("report", "application/json"))
    photo = seal_bytes(b"\xff\xd8 photo", [reviewer], Metadata("file", "image/jpeg", "a.jpg"))
    bundle = _bundle_of(
        server, tmp_path, {"report": ("report", sealed[:-100]), "a": ("file", photo)}
    )
    import_bundle(unlocked, bundle)

    shown = review(workspace, "show", "1").output
    assert "the report's text (its message and form answers) is missing" in shown
    assert "report's text" in shown.split("Attachments")[1]  # the damaged item is named
    listed = review(workspace, "list").output
    assert "text missing" in listed


def test_a_report_of_a_million_characters_is_shown_a_part_at_a_time(
    server: Server, unlocked: ws.Unlocked, workspace: Path, tmp_path: Path
) -> None:
    # The attack: a source's own device seals a report the browser's form could not send
    # (200,000 characters at most): millions of short lines, and a hundred million fit in
    # one item. `show` and the terminal UI laid all of it out, about 8 s and 55 MB a
    # million characters, at every redraw of the UI; a hundred million held the reviewer
    # a quarter of an hour and gigabytes each time the report was opened.
    reviewer = KeyFile.from_bytes(server.reviewer_key_file.read_bytes()).encryption_public
    assert reviewer is not None
    message = "word " * ((SHOWN_MAX + 100_000) // 5) + "the last line"
    report = json.dumps({"format": 1, "message": message, "fields": {"a": "b"}})
    sealed = seal_bytes(report.encode(), [reviewer], Metadata("report", "application/json"))
    import_bundle(unlocked, _bundle_of(server, tmp_path, {"report": ("report", sealed)}))

    first = review(workspace, "show", "1", "--rtl", "logical")
    assert first.exit_code == 0, first.output
    drawn = len(first.output)
    assert drawn < SHOWN_MAX + 10_000, f"`show` drew all {drawn:,} characters of the report"
    flat = " ".join(first.output.split())
    assert f"{len(message) - SHOWN_MAX:,} more characters are not shown" in flat
    assert f"`raazdar-review report show 1 --from {SHOWN_MAX}` shows the next part" in flat
    rest = review(workspace, "show", "1", "--rtl", "logical", "--from", str(SHOWN_MAX))
    assert rest.exit_code == 0, rest.output
    flat = " ".join(rest.output.split())
    assert flat.endswith(
        f"word the last line (from character {SHOWN_MAX:,} of {len(message):,})"
        f" (all 6 of its characters come before character {SHOWN_MAX:,})"
    ), flat[-300:]


def test_text_attachments_are_searchable_and_other_files_by_name_only(
    server: Server, unlocked: ws.Unlocked, tmp_path: Path
) -> None:
    from review.workspace.search import SearchIndex

    server.submit(
        "See the attached list.",
        [
            (
                "files",
                "debts.txt",
                b"Munshi Qadeer: 40,000 owed by kiln family",
                "text/plain",
            ),
            ("files", "photo.jpg", b"\xff\xd8 Zahoorabad hidden in pixels", "image/jpeg"),
        ],
    )
    import_bundle(unlocked, server.export(tmp_path / "e.rzb"))
    index = SearchIndex.load(unlocked)
    assert index.search("qadeer kiln") == [1]
    assert index.search("debts.txt") == [1]
    assert index.search("photo.jpg") == [1]
    assert index.search("zahoorabad") == []


def _fold_reference(text: str) -> str:
    """The plain definition of the search index's folding, which the fast one must equal."""
    folded = unicodedata.normalize("NFKC", text).casefold().translate(search._FOLD)
    return " ".join(folded.split())


_URDU_AND_MARKS = st.sampled_from(
    [
        "\u064a",
        "\u0649",
        "\u0643",
        "\u0647",
        "\u06c0",
        "\u0640",
        "\u200c",
        "\u200d",
        "\u0301",
        "\u064e",
        "\u0670",
        "\u0663",
        "\u06f7",
        "\u00a8",
        "\ufb50",
        "\u0130",
        "\u00df",
        "A",
        " ",
        "\u00a0",
        "\n",
        "تھانہ",
        "كريم",
        "Ḱ",
    ]
)


@given(st.one_of(st.text(), st.lists(_URDU_AND_MARKS).map("".join)))
@settings(max_examples=500, deadline=None)
def test_the_index_folds_text_as_its_plain_definition_does(text: str) -> None:
    assert search.normalize(text) == _fold_reference(text)


@given(
    st.fixed_dictionaries(
        {
            "kind": st.sampled_from(["report", "attachment"]),
            "type": st.text(),
            "name": st.none() | st.text(),
            "length": st.integers(0, 2**53),
        }
    )
)
@settings(max_examples=300, deadline=None)
def test_an_items_info_is_sealed_as_the_canonical_json_it_always_was(
    info: dict[str, object],
) -> None:
    assert importer._info_json(info) == canonical_json(info)


def test_an_items_info_with_a_lone_surrogate_is_refused() -> None:
    with pytest.raises(FormatError, match="lone surrogate"):
        importer._info_json(
            {"kind": "attachment", "type": "text/plain", "name": "\ud800", "length": 1}
        )


def sources_bundle(server: Server, tmp_path: Path, records: dict[str, bytes]) -> Path:
    """A bundle of one report from each source named, each record sealed as its device would."""
    reports = [(d, PrivateKey.generate().public_key, None, r) for d, r in records.items()]
    return bound_bundle(server, tmp_path, reports)


_HONEST = b'{"fields":{},"format":1,"language":"en","message":"the SHO took money"}'


@pytest.mark.parametrize(
    "record",
    [
        # Nested past Python's recursion limit: json.loads raised RecursionError.
        b'{"message":"x","fields":{"a":' + b"[" * 100_000 + b"]" * 100_000 + b"}}",
        # A lone surrogate, valid JSON: sealing the index and the state raised UnicodeEncodeError.
        b'{"message":"the \\ud800 SHO","fields":{}}',
        b'{"message":"x","fields":{"\\udfff":"y"},"language":"\\ud800"}',
        # Both, where the importer looks for a raazdar-submit source's reply prekeys.
        b'{"message":"x","reply_prekeys":' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    ],
    ids=["deep", "surrogate", "surrogate-key", "deep-prekeys"],
)
def test_a_hostile_report_record_is_filed_as_text_with_the_other_sources_reports(
    server: Server, unlocked: ws.Unlocked, workspace: Path, tmp_path: Path, record: bytes
) -> None:
    # The attack: a source seals a record no form makes, to crash the import; before,
    # it raised out of import_bundle, and every other source's report in the bundle
    # (and in every bundle exported again with it) was never filed.
    bundle = sources_bundle(server, tmp_path, {"Honest Lark": _HONEST, "Hostile Crow": record})
    summary = import_bundle(unlocked, bundle)
    assert (summary.filed, summary.problems) == (2, [])
    assert "the SHO took money" in review(workspace, "show", "1").output
    shown = review(workspace, "show", "2")
    assert shown.exit_code == 0, shown.output
    assert "message" in shown.output  # the record is kept and shown as the text it is


def _device_report(hostile: str) -> tuple[PublicKey, SourceBinding, bytes]:
    """A raazdar-submit source's account key, binding and record; `hostile` says what it forged."""
    keys = derive_source_keys(generate_codename(), bytes(16), KdfParams.TESTING)
    signed = ReplyPrekeys(tuple(HybridPrivateKey.generate().public_key for _ in range(4)))
    binding = SourceBinding.make(keys.public_key, keys.signing_key, signed)
    carried: object = signed.to_json()
    if hostile == "reply-key":
        other = derive_source_keys(generate_codename(), bytes(16), KdfParams.TESTING)
        binding = SourceBinding.make(other.public_key, other.signing_key, signed)
    elif hostile == "unverified":
        binding = SourceBinding(
            keys.public_key, SigningKey.generate().verify_key, binding.signature, binding.prekeys
        )
    elif hostile == "prekeys":
        carried = ReplyPrekeys((HybridPrivateKey.generate().public_key, *signed.keys[1:])).to_json()
    elif hostile == "malformed":
        carried = "x"
    record: dict[str, object] = {"fields": {}, "format": 1, "language": "en"}
    record["message"] = f"the SHO took money ({hostile})"
    if hostile != "stripped":
        record["reply_prekeys"] = carried
    return keys.public_key, binding, json.dumps(record).encode()


def bound_bundle(
    server: Server,
    tmp_path: Path,
    reports: Sequence[tuple[str, PublicKey, SourceBinding | None, bytes]],
    *,
    keyring: KeyringSeen | None = None,
    day: dt.date | None = None,
    keyring_version: int = 1,
) -> Path:
    """A bundle of one report per (designation, account key, binding, record), as sealed.

    `keyring` is the keyring each report names as the one its device sealed to; `day`
    the day they arrived and the bundle was made (today), `keyring_version` the
    server's keyring in force as the bundle says.
    """
    day = day or dt.date.today()
    reviewer = KeyFile.from_bytes(server.reviewer_key_file.read_bytes()).encryption_public
    assert reviewer is not None
    files, entries = [], []
    for designation, _key, binding, record in reports:
        path = tmp_path / f"{secrets.token_hex(4)}.rze"
        metadata = Metadata("report", "application/json", source=binding, keyring=keyring)
        path.write_bytes(seal_bytes(record, [reviewer], metadata))
        files.append(path)
        entries.append(
            ExportEntry(secrets.token_hex(16), secrets.token_hex(16), designation, "report", day)
        )
    manifest = ExportManifest(
        new_bundle_id(),
        server.instance_id,
        day,
        keyring_version,
        tuple(entries),
        {designation: key for designation, key, _binding, _record in reports},
    )
    bundle = tmp_path / f"sources-{secrets.token_hex(4)}.rzb"
    with bundle.open("wb") as dst:
        write_export(
            dst, manifest, files, SigningKey.from_text(server.paths.signing_key.read_text())
        )
    return bundle


@pytest.mark.parametrize("hostile", ["reply-key", "unverified", "prekeys", "stripped", "malformed"])
def test_one_sources_disputed_reply_key_quarantines_them_and_files_everyone_else(
    server: Server, unlocked: ws.Unlocked, workspace: Path, tmp_path: Path, hostile: str
) -> None:
    # The attack: a source's device seals a binding that disagrees with their account
    # (or does not verify, or prekeys it did not sign). Before, the whole bundle was
    # refused, and every later bundle, carrying the item again, too: no other source's
    # report was ever filed, and the reviewers were told to distrust their server.
    key, binding, record = _device_report(hostile)
    honest = PrivateKey.generate().public_key
    bundle = bound_bundle(
        server,
        tmp_path,
        [("Honest Lark", honest, None, _HONEST), ("Hostile Crow", key, binding, record)],
    )
    summary = import_bundle(unlocked, bundle)
    assert (summary.filed, summary.problems) == (2, [])
    (dispute,) = summary.disputes
    assert dispute.designation == "Hostile Crow"
    problem = dispute.message()
    assert "Hostile Crow" in problem
    assert "NO reply" in problem
    assert "compromised" in problem  # the server may have given a key the source did not make
    assert "the SHO took money" in review(workspace, "show", "1").output
    assert f"({hostile})" in review(workspace, "show", "2").output  # nothing a source sent is lost
    assert unlocked.conn.execute("SELECT count(*) FROM reply_prekeys").fetchone() == (0,)
    assert queue_reply(unlocked, 1, "Thank you").forward_secret is False
    with pytest.raises(ReviewError, match="disputed") as refused:
        queue_reply(unlocked, 2, "Who are you?", allow_codename_key=True)
    assert refused.value.hint is not None

    # The server can make a browser-form item (no binding) for any designation: it
    # does not clear the dispute, and no reply goes to the key it gives.
    later = bound_bundle(server, tmp_path, [("Hostile Crow", key, None, _HONEST)])
    assert import_bundle(unlocked, later).filed == 1
    for num in (2, 3):
        with pytest.raises(ReviewError, match="disputed"):
            queue_reply(unlocked, num, "Who are you?", allow_codename_key=True)
    assert unlocked.conn.execute("SELECT count(*) FROM replies").fetchone() == (1,)


def test_the_cli_says_loudly_which_source_is_disputed_and_why(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    key, binding, record = _device_report("reply-key")
    bundle = bound_bundle(server, tmp_path, [("Hostile Crow", key, binding, record)])
    shown = review(workspace, "import", str(bundle))
    assert shown.exit_code == 0, shown.output
    assert "Hostile Crow" in shown.output
    assert "compromised" in shown.output
    text = tmp_path / "reply.txt"
    text.write_text("Who are you?")
    refused = review(workspace, "reply", "1", "--file", str(text))
    assert refused.exit_code != 0
    assert "disputed" in refused.output
    # The report itself says so whenever it is read, not only at import.
    shown = review(workspace, "show", "1")
    assert shown.exit_code == 0, shown.output
    assert "reply key is disputed" in " ".join(shown.output.split())


def test_a_reply_queued_before_its_source_is_disputed_is_never_exported(
    server: Server, unlocked: ws.Unlocked, tmp_path: Path
) -> None:
    key, binding, record = _device_report("reply-key")
    first = bound_bundle(server, tmp_path, [("Hostile Crow", key, None, _HONEST)])
    import_bundle(unlocked, first)
    queued = queue_reply(unlocked, 1, "Which station?")
    import_bundle(
        unlocked, bound_bundle(server, tmp_path, [("Hostile Crow", key, binding, record)])
    )
    summary = export_replies(unlocked, tmp_path / "r.rzr")
    assert summary.replies == 0  # held, not lost: the reviewer can withdraw it
    assert unlocked.conn.execute(
        "SELECT exported_in FROM replies WHERE id = ?", (queued.reply_id,)
    ).fetchone() == (None,)
    # The export says what it held back, so the reviewer knows the reply is still here.
    assert summary.held == 1, "the export did not count the reply it held back"


def disputed_source_bundle(server: Server, tmp_path: Path, designation: str) -> Path:
    """A bundle of one report whose item disputes its source's reply key."""
    key, binding, record = _device_report("reply-key")
    return bound_bundle(server, tmp_path, [(designation, key, binding, record)])


def test_list_and_export_say_which_source_is_disputed(
    server: Server, unlocked: ws.Unlocked, workspace: Path, tmp_path: Path
) -> None:
    import_bundle(
        unlocked,
        bound_bundle(
            server, tmp_path, [("Honest Lark", PrivateKey.generate().public_key, None, _HONEST)]
        ),
    )
    key, binding, record = _device_report("reply-key")
    import_bundle(unlocked, bound_bundle(server, tmp_path, [("Hostile Crow", key, None, _HONEST)]))
    queue_reply(unlocked, 2, "Which station?", allow_codename_key=True)
    import_bundle(
        unlocked, bound_bundle(server, tmp_path, [("Hostile Crow", key, binding, record)])
    )
    rows = {row.num: row.disputed for row in list_reports(unlocked, Filters())}
    assert rows == {1: False, 2: True, 3: True}, "list does not mark the disputed source"
    listed = review(workspace, "list")
    assert listed.exit_code == 0, listed.output
    lines = {
        line.split()[1]: line
        for line in listed.output.splitlines()
        if "│" in line and line.split()[1].isdigit()
    }
    assert "disputed" not in lines["1"]
    assert "disputed" in lines["2"]
    assert "disputed" in lines["3"]
    # `show` says the held reply is never sent, not that it waits for the next export.
    shown = " ".join(review(workspace, "show", "2").output.split())
    assert "(queued)" not in shown
    assert "held: never sent" in shown
    # The export counts what it holds back, and says so, even with nothing else to write.
    exported = review(workspace, "exchange", "export", "--out", str(tmp_path / "r.rzr"))
    assert exported.exit_code == 0, exported.output
    assert "1 reply(ies) to disputed sources held back" in " ".join(exported.output.split())
    refused = review(workspace, "exchange", "export", "--out", str(tmp_path / "r2.rzr"))
    assert refused.exit_code != 0
    assert "1 reply(ies) to disputed sources held back" in " ".join(refused.output.split())


def _started_from_keyring(server: Server, tmp_path: Path) -> tuple[Path, Manifest]:
    """A workspace started from the demo instance's keyring v1, as carried over; and it."""
    carried = tmp_path / "keyring-v1.json"
    carried.write_bytes(manifest_path(server.paths, 1).read_bytes())
    root = tmp_path / "pinned"
    started = review(
        root,
        "init",
        "--keyring",
        str(carried),
        "--key-file",
        str(server.reviewer_key_file),
        "--reviewer",
        "demo-reviewer",
    )
    assert started.exit_code == 0, started.output
    return root, SignedManifest.from_bytes(carried.read_bytes()).manifest


def _forked(manifest: Manifest) -> Manifest:
    """The keyring in force with one more reviewer: what a rotated-out authority set can sign."""
    spy = KeyPair.generate(encryption=True, signing=True)
    assert spy.encryption is not None
    assert spy.signing is not None
    first = manifest.recipients[0]
    extra = dataclasses.replace(
        first,
        id="spy",
        encryption_key=spy.encryption.public_key,
        signing_key=spy.signing.verify_key,
        hybrid_key=HybridPrivateKey.generate().public_key if first.hybrid_key else None,
    )
    return dataclasses.replace(manifest, recipients=(*manifest.recipients, extra))


def test_a_report_sealed_to_a_fork_of_the_keyring_installed_here_is_named(
    server: Server, tmp_path: Path
) -> None:
    # The attack: the server shows a source's device a keyring of the version in force
    # that lists a reviewer of someone else's beside the real ones (a chain a rotated-out
    # authority set signed, for a device verifying from old pins). The report reaches
    # the reviewers as usual, and a copy goes to the spy; before, the import said nothing.
    workspace, installed = _started_from_keyring(server, tmp_path)
    fork = _forked(installed)
    key, binding, record = _device_report("none")
    bundle = bound_bundle(
        server,
        tmp_path,
        [("Watched Lark", key, binding, record)],
        keyring=KeyringSeen(fork.version, fork.digest()),
    )
    shown = review(workspace, "import", str(bundle))
    assert shown.exit_code == 0, shown.output
    v = fork.version
    assert f"sealed to a keyring v{v} that is not the v{v} installed here" in shown.output
    assert "Watched Lark" in shown.output
    assert "not through the server" in shown.output
    assert "the SHO took money" in review(workspace, "show", "1").output  # filed all the same


def test_a_report_sealed_to_the_keyring_installed_here_names_no_fork(
    server: Server, tmp_path: Path
) -> None:
    workspace, manifest = _started_from_keyring(server, tmp_path)
    key, binding, record = _device_report("none")
    for seen in (
        KeyringSeen(manifest.version, manifest.digest()),
        KeyringSeen(manifest.version + 1, bytes(32)),  # not installed here: nothing to compare
    ):
        reports = [("Honest Lark", key, binding, record)]
        bundle = bound_bundle(server, tmp_path, reports, keyring=seen)
        shown = review(workspace, "import", str(bundle))
        assert shown.exit_code == 0, shown.output
        assert "installed here" not in shown.output, shown.output


def test_a_report_sealed_to_a_keyring_the_server_had_replaced_weeks_before_is_named(
    server: Server, tmp_path: Path
) -> None:
    # The attack: whoever holds the keyring's timestamp key and the server keeps showing
    # one source's device keyring v1, stamped afresh, weeks after the server's own bundles
    # said v2 (which drops a reviewer) was in force; the device seals to v1's reviewers.
    # The envelope names v1, out of the server's reach; before, the import said nothing.
    workspace, installed = _started_from_keyring(server, tmp_path)
    v1 = KeyringSeen(installed.version, installed.digest())
    weeks_ago = dt.date.today() - dt.timedelta(days=20)
    key, binding, record = _device_report("none")
    early = [("Early Lark", key, binding, record)]
    # Sealed to v1 the day the server said v2 was in force: a device may hold v1's stamp.
    bundle = bound_bundle(server, tmp_path, early, keyring=v1, day=weeks_ago, keyring_version=2)
    shown = review(workspace, "import", str(bundle))
    assert shown.exit_code == 0, shown.output
    assert "replaced" not in shown.output, shown.output
    key, binding, record = _device_report("none")
    late = [("Watched Lark", key, binding, record)]
    bundle = bound_bundle(server, tmp_path, late, keyring=v1, keyring_version=2)
    shown = review(workspace, "import", str(bundle))
    assert shown.exit_code == 0, shown.output
    said = " ".join(shown.output.split())
    assert "Watched Lark" in said
    assert f"sealed to keyring v1, which the server's bundle of {weeks_ago} had replaced" in said
    assert "timestamp key" in said
    assert "the SHO took money" in review(workspace, "show", "2").output  # filed all the same
    again = ws.Workspace.open(workspace).unlock("demo-reviewer", lambda _: DEMO_PASSPHRASE)
    try:
        details = [e.detail for e in audit.entries(again) if e.action == "import"]
    finally:
        again.workspace.close()
    assert [len((d or {}).get("stale", ())) for d in details] == [0, 1]
