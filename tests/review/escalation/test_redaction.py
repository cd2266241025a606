"""Redaction: confirmed details become consistent pseudonyms, however they are written."""

from __future__ import annotations

import pytest

from review.errors import InvalidValue
from review.escalation.packets import _forms
from review.escalation.redaction import Candidate, Redactor, Term, candidates, parse_term

TEXT = "SHO Rana Tariq took Shazia Bibi. Call 0300-1234567 or CNIC 35202-1234567-1."


def test_each_term_gets_one_pseudonym_numbered_per_kind() -> None:
    redactor = Redactor(
        [
            Term("person", ("Shazia Bibi",)),
            Term("person", ("Rana Tariq",)),
            Term("phone", ("0300-1234567",)),
            Term("detail", ("Chak 41",)),
        ]
    )
    out = redactor.apply(TEXT + " Shazia Bibi again, at Chak 41.")
    assert out == (
        "SHO Person B took Person A. Call Phone 1 or CNIC 35202-1234567-1."
        " Person A again, at Detail 1."
    )
    assert redactor.pseudonyms == [
        ("Person A", "person"),
        ("Person B", "person"),
        ("Phone 1", "phone"),
        ("Detail 1", "detail"),
    ]


@pytest.mark.parametrize(
    "written",
    [
        "shazia bibi",  # case
        "SHAZIA   BIBI",  # spacing
        "Shazia\nBibi",
    ],
)
def test_english_spellings_match_whatever_the_case_and_spacing(written: str) -> None:
    redactor = Redactor([Term("person", ("Shazia Bibi",))])
    assert redactor.apply(f"with {written}.") == "with Person A."


@pytest.mark.parametrize(
    "written",
    [
        "شازیہ بی بی",  # as confirmed: Urdu yeh and heh goal
        "شازيه بي بي",  # Arabic yeh and heh, as an Arabic keyboard writes it
        "شازیـہ بی بی",  # tatweel
        "شا\u200cزیہ بی بی",  # noqa: RUF001 - a zero-width non-joiner, written as typed
        "شازِیہ بی بی",  # a diacritic
    ],
)
def test_urdu_spellings_match_across_keyboards(written: str) -> None:
    redactor = Redactor([Term("person", ("شازیہ بی بی",))])
    assert redactor.apply(f"کل {written} کو لے گئے") == "کل Person A کو لے گئے"


@pytest.mark.parametrize(
    "written", ["0300-1234567", "03001234567", "0300 1234567", "۰۳۰۰-۱۲۳۴۵۶۷", "0300.123.4567"]
)
def test_numbers_match_with_any_separators_and_digits(written: str) -> None:
    redactor = Redactor([Term("phone", ("0300-1234567",))])
    assert redactor.apply(f"call {written} now") == "call Phone 1 now"


def test_a_longer_term_wins_and_a_shorter_one_is_not_matched_inside_words() -> None:
    redactor = Redactor([Term("person", ("Ali",)), Term("person", ("Ali Khan",))])
    assert redactor.apply("Ali Khan met Ali in Khanewal; quality") == (
        "Person B met Person A in Khanewal; quality"
    )


def test_a_pseudonym_is_never_itself_redacted() -> None:
    redactor = Redactor([Term("person", ("Shazia",)), Term("detail", ("Person",))])
    assert redactor.apply("Shazia, a Person") == "Person A, a Detail 1"


def test_leaks_names_terms_still_present() -> None:
    redactor = Redactor([Term("person", ("Shazia",))])
    assert redactor.leaks("Shazia was here") == ["Person A"]
    assert redactor.leaks(redactor.apply("Shazia was here")) == []


def test_person_letters_go_on_past_z() -> None:
    redactor = Redactor([Term("person", (f"name{i}",)) for i in range(28)])
    assert [p for p, _ in redactor.pseudonyms][25:] == ["Person Z", "Person AA", "Person AB"]


def test_a_reviewers_term_may_name_its_kind() -> None:
    assert parse_term("person: Shazia Bibi") == Term("person", ("Shazia Bibi",))
    assert parse_term("Chak 41") == Term("detail", ("Chak 41",))
    assert parse_term("note: this") == Term("detail", ("note: this",))
    assert parse_term("person:Shazia | شازیہ") == Term("person", ("Shazia", "شازیہ"))
    with pytest.raises(InvalidValue):
        parse_term("  ")


def test_candidates_group_spellings_of_one_entity() -> None:
    found = candidates([TEXT, "SHO Rana Tariq again; phone 03001234567"])
    by_kind = {(c.kind, c.key): c for c in found}
    person = by_kind[("person", "rana tariq")]
    assert person.forms == ("Rana Tariq",)
    assert person.count == 2
    phone = by_kind[("phone", "+923001234567")]
    assert set(phone.forms) == {"0300-1234567", "03001234567"}
    assert phone.names("0300-1234567")
    assert not phone.names("0300")


def test_a_persons_name_is_also_redacted_without_the_rank_before_it() -> None:
    candidate = Candidate("person", "rana tariq", ("SHO Rana Tariq",), 1)
    assert _forms(candidate) == ("SHO Rana Tariq", "Rana Tariq")
    redactor = Redactor([Term("person", _forms(candidate))])
    assert redactor.apply("SHO Rana Tariq said; later Rana Tariq paid") == (
        "Person A said; later Person A paid"
    )


def test_a_confirmed_suggestion_is_found_again_by_its_key() -> None:
    redactor = Redactor([Term("person", ("SHO Rana Tariq",), "rana tariq")])
    assert redactor.pseudonym_for("person", "rana tariq") == "Person A"
    assert redactor.pseudonym_for("phone", "rana tariq") is None
    assert redactor.pseudonym_for("person", None) is None
