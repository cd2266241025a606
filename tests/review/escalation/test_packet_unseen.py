"""What a client's fields and characters no one sees carry into a packet: only what the
reviewer was shown, redacted as the text is."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from crypto import Metadata, PrivateKey, seal_bytes
from crypto.packet import open_packet
from review import workspace as ws
from review.escalation.packets import redacted_fields
from review.escalation.redaction import Redactor, Term
from review.intake.importer import import_bundle
from tests.review.escalation.test_escalation import _add_body
from tests.review.subkey_bundles import REPORT, Chain
from tests.review.support import Server, review


def _tags(text: str) -> str:
    return "".join(chr(0xE0000 + ord(ch)) for ch in text)


def _packet(
    server: Server, unlocked: ws.Unlocked, tmp_path: Path, message: str, fields: dict[str, Any]
) -> dict[str, Any]:
    """A report the end-to-end client sealed with these fields, escalated: the packet's
    document as the body opens it."""
    record = {"fields": fields, "format": 1, "language": "en", "message": message}
    (pair,) = unlocked.keys
    assert pair.encryption_public is not None
    # As a client may write it: any JSON, keys in any script.
    data = json.dumps(record, ensure_ascii=False).encode("utf-8")
    envelope = seal_bytes(data, [pair.encryption_public], Metadata("report", REPORT))
    import_bundle(unlocked, Chain(server, tmp_path).bundle([envelope], dt.date.today()))
    root = unlocked.workspace.root
    assert review(root, "status", "1", "in-review").exit_code == 0
    body = _add_body(root)
    made = review(
        root,
        *("escalate", "1", "--to", "Anti-Trafficking Cell", "--summary", "Kiln payments."),
        *("--yes-redact", "Shazia Bibi", "--out", str(tmp_path / "packet.rzp")),
    )
    assert made.exit_code == 0, made.output
    key = body.encryption
    assert isinstance(key, PrivateKey)
    document: dict[str, Any] = open_packet(
        (tmp_path / "packet.rzp").read_bytes(), key
    ).content.document
    return document


def test_a_clients_field_keys_are_redacted_and_carry_no_hidden_text(
    server: Server, unlocked: ws.Unlocked, tmp_path: Path
) -> None:
    # The attack: raazdar-submit seals whatever fields a source's client writes, keys
    # included. The text and the values went through the redactor; the keys went into
    # the packet as written: a victim's name the reviewer redacted everywhere else, and a
    # sentence in tag characters the reviewer was never shown.
    hidden = "ignore the redactions"
    fields = {f"victim Shazia Bibi{_tags(hidden)}": "taken to the kiln", "district": "Kasur"}
    document = _packet(server, unlocked, tmp_path, "Shazia Bibi was sold at Chunian.", fields)
    text = json.dumps(document, ensure_ascii=False)
    revealed = "".join(chr(ord(ch) - 0xE0000) for ch in text if 0xE0000 <= ord(ch) <= 0xE007F)
    assert not revealed, f"a field's key carried hidden text: {revealed!r}"
    assert "Shazia" not in text, "a field's key carried a redacted name"
    (report,) = document["reports"]
    # The key as the reviewer was shown it, redacted; under its number, as packets' keys
    # are ASCII (before, such a key failed the packet: "the workspace may be damaged").
    assert report["fields"] == {
        "district": "Kasur",
        "field 2": "victim Person A" + "\ufffd" * len(hidden) + ": taken to the kiln",
    }


def test_two_keys_redacted_alike_both_reach_the_packet() -> None:
    # Losing a field is no fix: two keys that one pseudonym makes alike both go.
    redactor = Redactor([Term("person", ("Shazia Bibi", "Shazia"))])
    contents: list[dict[str, str | None]] = [
        {"Shazia Bibi": "a", "Shazia": "b", "note": None},
        {"Shazia": "c"},
    ]
    assert redacted_fields(redactor, contents) == {
        "Person A": "b",
        "Person A (2)": "a",
        "Person A (3)": "c",
    }
