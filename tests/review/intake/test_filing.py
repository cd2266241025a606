"""Filing an import's rows at once: the numbers, links and states rows written one by one gave."""

from __future__ import annotations

import datetime as dt
import json
import secrets
from pathlib import Path

from crypto import KdfParams, KeyFile, KeyPair, Metadata, PrivateKey, SigningKey, seal_bytes
from crypto.exchange import ExportEntry, ExportManifest, new_bundle_id, write_export
from review import workspace as ws
from review.casework import notices
from review.intake.importer import import_bundle
from review.workspace.state import read_state

_REPORT = Metadata("report", "application/vnd.raazdar.report+json; version=1")
_FILE = Metadata("attachment", "text/plain", filename="note.txt")
# Submission ids as the server makes them: 16 random bytes in hex.
SUB_A, SUB_B, SUB_C = ("a" * 32, "b" * 32, "c" * 32)


class _Instance:
    """A server key, a reviewer key and a workspace pinned to them, for bundles made here."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.server, self.keys = SigningKey.generate(), KeyPair.generate()
        self.instance = secrets.token_hex(16)
        self.sources = {name: PrivateKey.generate().public_key for name in ("Asha", "Bilal")}
        data = KeyFile.create(
            self.keys, "pass", kind="reviewer", label="r", params=KdfParams.TESTING
        ).to_bytes()
        pinned = ws.Pinned(self.instance, self.server.verify_key, ())
        self.unlocked = ws.create(
            root / "ws", pinned, reviewer="r", name="r", key_file=data, passphrase="pass"
        )

    def bundle(self, name: str, items: list[tuple[str, str, str, dict[str, str]]]) -> Path:
        """A bundle of (submission, source, kind, fields) items, each a report or a text file."""
        assert self.keys.encryption_public is not None
        entries, files = [], []
        for n, (submission, source, kind, fields) in enumerate(items):
            if kind == "report":
                body = {"format": 1, "message": f"report {submission}", "fields": fields}
                plain, meta = json.dumps(body).encode(), _REPORT
            else:
                plain, meta = f"a note on {submission}".encode(), _FILE
            path = self.root / f"{name}-{n}.rze"
            path.write_bytes(seal_bytes(plain, [self.keys.encryption_public], meta))
            files.append(path)
            entries.append(
                ExportEntry(secrets.token_hex(16), submission, source, kind, dt.date(2026, 12, 1))
            )
        manifest = ExportManifest(
            new_bundle_id(), self.instance, dt.date(2026, 12, 1), 1, tuple(entries), self.sources
        )
        out = self.root / f"{name}.rzb"
        with out.open("wb") as dst:
            write_export(dst, manifest, files, self.server)
        return out


def _reports(u: ws.Unlocked) -> list[tuple[int, str, str]]:
    return u.conn.execute("SELECT num, submission, source FROM reports ORDER BY num").fetchall()


def _items(u: ws.Unlocked) -> list[tuple[int, str]]:
    return u.conn.execute("SELECT report, kind FROM items ORDER BY report, kind").fetchall()


def test_reports_are_numbered_by_their_first_item_and_items_filed_under_them(
    tmp_path: Path,
) -> None:
    site = _Instance(tmp_path)
    u = site.unlocked
    first = site.bundle(
        "one",
        [
            (SUB_B, "Bilal", "attachment", {}),  # an attachment before its report
            (SUB_A, "Asha", "report", {"district": "Kasur"}),
            (SUB_B, "Bilal", "report", {}),
            (SUB_A, "Asha", "attachment", {}),
        ],
    )

    summary = import_bundle(u, first)

    assert (summary.filed, summary.new_reports) == (4, 2)
    assert _reports(u) == [(1, SUB_B, "Bilal"), (2, SUB_A, "Asha")]
    assert _items(u) == [(1, "attachment"), (1, "report"), (2, "attachment"), (2, "report")]
    assert read_state(u, 2).district == "Kasur"
    assert {n.source: n.status for n in notices.pending(u)} == {
        "Asha": "received",
        "Bilal": "received",
    }


def test_a_later_bundle_adds_to_a_report_filed_earlier_and_numbers_new_ones_after(
    tmp_path: Path,
) -> None:
    site = _Instance(tmp_path)
    u = site.unlocked
    import_bundle(u, site.bundle("one", [(SUB_A, "Asha", "attachment", {})]))
    assert read_state(u, 1).district is None

    later = site.bundle(
        "two",
        [(SUB_C, "Bilal", "report", {}), (SUB_A, "Asha", "report", {"district": "Okara"})],
    )
    summary = import_bundle(u, later)

    assert (summary.filed, summary.new_reports) == (2, 1)
    assert _reports(u) == [(1, SUB_A, "Asha"), (2, SUB_C, "Bilal")]
    assert _items(u) == [(1, "attachment"), (1, "report"), (2, "report")]
    # The form's answers reach the report made by the earlier bundle.
    assert read_state(u, 1).district == "Okara"
