"""What a client's fields and characters no one sees carry into a packet: only what the
reviewer was shown, redacted as the text is."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

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


# Bits hidden in characters no one sees: zero-width spaces and joiners, a word joiner, a
# byte order mark, variation selectors on letters ("emoji smuggling" one byte a selector).
STEGO = "\u200b\u200c\u200b\u200d\u2060\ufeff\u200b"
SMUGGLED = "a\ufe01\ufe02\ufe0e\ufe0f"
# Joiners the script needs: an emoji's ZWJ sequence and VS16.
URDU = "\u0646\u0648\u0679\u0628\u06a9 \u0645\u06cc\u0631\u06cc"
EMOJI = "\U0001f469\u200d\U0001f4bb \u2764\ufe0f"


@pytest.mark.parametrize(
    ("written", "carried"),
    [
        (f"The kiln{STEGO} pays.", "The kiln pays."),
        (f"Kasur {SMUGGLED}", "Kasur a"),
        (URDU, URDU),
        # Urdu reads the same without a joiner: one inside a word is a bit, not a letter.
        ("\u0646\u0648\u0679\u200c\u0628\u06a9 \u0645\u06cc\u0631\u200d\u06cc", URDU),
        (EMOJI, EMOJI),
        # A run of joiners is no joiner the script needs.
        ("\u0646\u0648\u0679\u200c\u200c\u0628\u06a9", "\u0646\u0648\u0679\u0628\u06a9"),
        ("Tariq\u200cMehmood", "TariqMehmood"),
    ],
)
def test_characters_no_one_sees_reach_no_packet_but_those_urdu_needs(
    written: str, carried: str
) -> None:
    # The attack: a source hides bits in zero-width characters and variation selectors,
    # which no view draws, so the reviewer vouches for a packet carrying them unseen.
    assert Redactor([]).apply(written) == carried


# A canary text the accused hand each suspected insider, one ZWNJ placed differently in
# each copy: after a letter that never joins the next ("کار‌خانہ", drawn alike either
# way), or inside a word where a terminal that lays Urdu out itself draws no difference.
CANARY = "بھٹہ کار{}خانہ کا مالک ایس{}ایچ او کو پیسے دیتا ہے"


@pytest.mark.parametrize(("first", "second"), [(0, 1), (0, 2), (1, 2)])
def test_a_canary_copy_marked_by_one_joiner_reaches_the_packet_as_any_other(
    first: int, second: int
) -> None:
    # The attack: two suspects' copies differ only in where one joiner sits; a packet that
    # carried it told whoever reads a leaked packet which suspect the source was.
    marks = [("\u200c", ""), ("", "\u200c"), ("\u200d", "")]
    a, b = (Redactor([]).apply(CANARY.format(*marks[n])) for n in (first, second))
    assert a == b, "one joiner inside an Urdu word told two canary copies apart"
    assert a == CANARY.format("", "")


# Canary copies marked by letters a reader cannot tell apart: a Cyrillic a (U+0430) in an
# English word, Arabic yeh or kaf for Urdu's inside a word, an Arabic-Indic digit for an
# Urdu one ("۳" and "٣" are drawn alike).
LOOKALIKES = [
    ("The kiln owner pays the SHO.", "The kiln owner p\u0430ys the SHO."),
    ("The kiln owner pays the SHO.", "The kiln \u043ewner pays the \u0405H\u041e."),
    ("ایس ایچ او کو پیسے ملتے ہیں", "ایس ایچ او کو پ\u064aسے ملتے ہیں"),
    ("بھٹہ مالک پیسے دیتا ہے", "بھٹہ مال\u0643 پیسے دیتا ہے"),
    ("۳ بجے پیسے دیے", "\u0663 بجے پیسے دیے"),
]


@pytest.mark.parametrize(("plain", "marked"), LOOKALIKES)
def test_a_canary_copy_marked_by_a_lookalike_letter_reaches_the_packet_as_any_other(
    plain: str, marked: str
) -> None:
    # The attack: two suspects' copies differ in one letter drawn alike; the packet
    # carried it as typed, and whoever read a leaked packet knew which suspect wrote.
    assert Redactor([]).apply(marked) == Redactor([]).apply(plain), "a lookalike marked a copy"
    assert Redactor([]).apply(plain) == plain


def test_a_word_of_another_script_goes_as_written() -> None:
    # Not a lookalike: a word all of Cyrillic letters is that script's, as typed.
    assert Redactor([]).apply("The agent went to \u041c\u043e\u0441\u043a\u0432\u0430.") == (
        "The agent went to \u041c\u043e\u0441\u043a\u0432\u0430."
    )


@pytest.mark.parametrize(
    ("term", "text"),
    [("Shazia", "Saw Sh\u0430zia Bibi"), ("Sh\u0430zia", "Saw Shazia Bibi")],
)
def test_a_name_written_with_a_lookalike_letter_is_redacted_all_the_same(
    term: str, text: str
) -> None:
    # The attack: the victim's name typed with a Cyrillic a, U+0430 (or the reviewer's term so
    # typed) escaped a term written otherwise, and went into the packet in the clear.
    redactor = Redactor([Term("person", (term,))])
    assert redactor.apply(text) == "Saw Person A Bibi", "a lookalike letter escaped redaction"
    assert redactor.leaks(text) == ["Person A"]


# Canary copies marked by spacing a reader passes over: two spaces where one was, a space
# or tab at a line's end, a tab for a space, a Windows line end.
SPACINGS = [
    (
        "The kiln owner pays the SHO.\nHe comes at night.",
        "The kiln owner pays  the SHO.\nHe comes at night.",
    ),
    (
        "The kiln owner pays the SHO.\nHe comes at night.",
        "The kiln owner pays the SHO. \nHe comes at night.",
    ),
    (
        "The kiln owner pays the SHO.\nHe comes at night.",
        "The kiln owner\tpays the SHO.\nHe comes at night.",
    ),
    (
        "The kiln owner pays the SHO.\nHe comes at night.",
        "The kiln owner pays the SHO.\r\nHe comes at night.",
    ),
    ("بھٹہ مالک پیسے دیتا ہے", "بھٹہ مالک  پیسے دیتا ہے"),
]


@pytest.mark.parametrize(("plain", "marked"), SPACINGS)
def test_a_canary_copy_marked_by_its_spacing_reaches_the_packet_as_any_other(
    plain: str, marked: str
) -> None:
    # The attack: two suspects' copies differ only in where a second space or a line's
    # trailing space sits; the packet carried the spacing as typed, and whoever read a
    # leaked packet knew which suspect's copy the source had quoted.
    assert Redactor([]).apply(marked) == Redactor([]).apply(plain), "spacing marked a copy"
    assert Redactor([]).apply(plain) == plain


# Canary copies marked by punctuation drawn nearly alike: curly quotes for straight ones,
# a dash or minus sign for a hyphen.
PUNCTUATION = [
    ('The SHO said "pay or go" at the kiln.', "The SHO said \u201cpay or go\u201d at the kiln."),
    ("The munshi's register is green.", "The munshi\u2019s register is green."),
    ("He came on 12-14 March.", "He came on 12\u201314 March."),
    ("He came on 12-14 March.", "He came on 12\u221214 March."),
    ("The kiln - Chak 41 - pays.", "The kiln \u2014 Chak 41 \u2015 pays."),
]


@pytest.mark.parametrize(("plain", "marked"), PUNCTUATION)
def test_a_canary_copy_marked_by_its_quotes_and_dashes_reaches_the_packet_as_any_other(
    plain: str, marked: str
) -> None:
    # The attack: two suspects' copies differ only in a curly quote or an en dash, which
    # a reviewer reads past as a straight quote or a hyphen; the packet carried it.
    assert Redactor([]).apply(marked) == Redactor([]).apply(plain), "punctuation marked a copy"
    assert Redactor([]).apply(plain) == plain
