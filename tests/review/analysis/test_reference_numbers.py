"""A number a reference's word names, of any shape, is a reference number: offered for redaction.

The attack (left by session 40's first round): only thirteen digits after a reference's word
("FIR No. 3520212345671") became a reference number. An FIR's number as a station writes it
("FIR No. 245/2024", "FIR number 113 of 2023"), a case's, a challan's, an account of 14 to 24
digits, an IBAN written whole, a passport's number, a parcel's, and the same in Urdu, were no
entity at all: a packet never asked about them, and her own FIR's number told the police she
accuses who wrote it. Each is a reference number now (kind "reference", keyed by what it is
written as, so never a CNIC's or a phone's key), offered as "Reference number N" and linked
only weakly. A date, a sum, a year, a phone number, a CNIC or a plate is none.
"""

from __future__ import annotations

import pytest

from review.analysis import copies, links
from review.analysis.entities import extract, key_for
from review.escalation.redaction import Redactor, Term, candidates
from tests.review.analysis.person_links import corpus_of

REFERENCED = [
    ("Our FIR No. 245/2024 was registered at Thana Saddar Kasur.", "245/2024"),
    ("FIR number 113 of 2023 was torn up by the SHO.", "113/2023"),
    ("The case no. 77/23 was filed against my husband.", "77/23"),
    ("challan # 4471 was written in my name", "4471"),
    ("I sent it from my account number 00271003456789012 at HBL.", "00271003456789012"),
    ("His A/C No. 0123-4567-8901-23 at UBL took the money.", "01234567890123"),
    ("The agent's IBAN: PK36SCBL0000001123456702.", "PK36SCBL0000001123456702"),
    ("He gave us PK36SCBL0000001123456702 to pay into.", "PK36SCBL0000001123456702"),
    ("IBAN PK36 SCBL 0000 0011 2345 6702 was his.", "PK36SCBL0000001123456702"),
    ("My passport no. AB1234567 is with the agent.", "AB1234567"),
    ("The parcel's tracking number RGL123456789PK came back.", "RGL123456789PK"),
    ("Meri FIR no 245/2024 thane mein parhi hai.", "245/2024"),
    ("ایف آئی آر نمبر ۲۴۵/۲۰۲۴ تھانے میں درج ہوئی۔", "245/2024"),
    ("مقدمہ نمبر ۴۵۲ تھانہ صدر میں درج ہے۔", "452"),
    ("My complaint no. 2024/117 at the Ombudsman was closed.", "2024/117"),
]


@pytest.mark.parametrize(("text", "key"), REFERENCED)
def test_a_reference_number_of_any_shape_is_offered_for_redaction(text: str, key: str) -> None:
    found = {(c.kind, c.key): c for c in candidates([text])}
    assert ("reference", key) in found, found
    (written,) = found[("reference", key)].forms
    assert key_for("reference", written) == key
    redacted = Redactor([Term("reference", (written,))]).apply(text)
    assert "Reference number 1" in redacted, redacted
    assert written not in redacted, redacted


NOT_REFERENCES = [
    "The FIR was registered on 12/03/2024 at Thana Saddar.",
    "FIR dated 12.3.2024 names nobody.",
    "He took Rs 5000 from my account.",
    "account mein Rs 50000 bheje, agent ne kaha",
    "bank 50000 rupees ka draft mangta tha",
    "The case of 2023 is still open.",
    "FIR 2023 mein darj hui thi.",
    "My account is with HBL, call 0300 1234567 about it.",
    "FIR no. 12 is all the munshi would say.",
    "Challan of car LEA-1234 was paid.",
    "FIR 302/34 PPC ke tehat darj hui.",
    "The case no. 371 PPC was never heard.",
]


@pytest.mark.parametrize("text", NOT_REFERENCES)
def test_a_date_a_sum_a_year_a_phone_or_a_plate_is_no_reference_number(text: str) -> None:
    found = [(e.kind, e.text) for e in extract(text) if e.kind == "reference"]
    assert found == [], found


def test_a_word_without_a_digit_is_no_reference_number() -> None:
    # a reviewer's lookup of "Ali" tries every kind's key: a reference's is none
    assert key_for("reference", "Ali Raza") is None
    assert key_for("reference", "FIR No. 245/2024") == "245/2024"


def test_an_account_number_that_is_a_phone_stays_a_phone() -> None:
    kinds = {e.kind for e in extract("Easypaisa account number 03001234567 was the agent's.")}
    assert "phone" in kinds, kinds
    assert "reference" not in kinds, kinds


def test_a_card_after_a_reference_word_stays_a_cnic() -> None:
    kinds = {e.kind for e in extract("FIR No. 245/2024 names him, CNIC 35202-1234567-1.")}
    assert {"cnic", "reference"} <= kinds, kinds


def test_one_fir_number_in_two_reports_links_them_only_weakly() -> None:
    corpus = corpus_of(
        [
            "FIR No. 245/2024 at Thana Saddar Kasur was torn up by the SHO.",
            "The munshi of Thana City Mardan asked Rs 20,000 to find FIR no 245/2024.",
        ]
    )
    (reference,) = [e for e in corpus.related(1).links[2].evidence if e.kind == "reference"]
    assert reference.key == "245/2024"
    assert reference.strength.level == links.WEAK
    assert not reference.counts
    assert corpus.related(1).corroborating == 0


def test_a_reference_number_is_masked_out_of_a_writers_rare_phrases() -> None:
    # hashing scheme 7: two families citing one FIR's number share none of its 5-grams
    words = copies.WordHashes()
    first = "The SHO tore up our FIR No. 245/2024 at Thana Saddar Kasur in front of us."
    second = "The SHO tore up our FIR No. 871/2023 at Thana Saddar Kasur in front of us."
    masked = [copies.shingles(t, extract(t), words) for t in (first, second)]
    assert masked[0] == masked[1]
    assert copies.shingles(first, (), words) != copies.shingles(second, (), words)


# Left by session 40: a short reference number written in groups ("challan no 1234-5678":
# eight digits, under the ten an account's groups need), or with a few words between its
# word and the number ("The FIR number for the case is 245", "FIR ka number 245 hai"), was no
# entity: a packet carried it unasked, and an FIR's number names who filed it.
SHORT_REFERENCES = [
    ("challan no 1234-5678 was paid at the thana.", "12345678"),
    ("My account no. 1234 5678 at HBL took the money.", "12345678"),
    ("FIR no. 2451-2345 was torn up by the SHO.", "24512345"),
    ("Our case number at the court is 4471.", "4471"),
    ("FIR no. for my son is 245/2024, the munshi said.", "245/2024"),
    ("FIR ka number 245 hai, thana Saddar mein.", "245"),
    ("Meri FIR ki number 1187 thi.", "1187"),
    ("The FIR registered as number 245 of 2024 names nobody.", "245/2024"),
    ("The FIR, number 245, was torn up.", "245"),
]


@pytest.mark.parametrize(("text", "key"), SHORT_REFERENCES)
def test_a_short_or_spaced_reference_number_is_offered_for_redaction(text: str, key: str) -> None:
    found = {(c.kind, c.key) for c in candidates([text])}
    assert ("reference", key) in found, found


NOT_SHORT_REFERENCES = [
    "The FIR number for the case cost us Rs 5000 in the end.",
    "Case ka number mangne pe munshi ne 5000 rupay liye.",
    "The FIR number for the case is with the munshi, call 0300 1234567.",
    "FIR no. 12-03-2024 ko darj hui.",
    "The FIR for my son was registered on 12 03 2024.",
    "The case number was given in 2023 to us.",
    "FIR number ke liye 20 hazar mange.",
    "My account at HBL was emptied of 1234 5678 rupees.",
]


@pytest.mark.parametrize("text", NOT_SHORT_REFERENCES)
def test_a_sum_a_date_or_a_phone_after_a_references_words_is_no_reference(text: str) -> None:
    found = [(e.kind, e.text) for e in extract(text) if e.kind == "reference"]
    assert found == [], found


def test_a_short_reference_number_is_masked_out_of_a_writers_rare_phrases() -> None:
    # hashing scheme 8: two families citing one FIR's short number share none of its 5-grams
    words = copies.WordHashes()
    first = "Our FIR ka number 245 hai aur SHO ne usay phaar diya, hum sab ke samne."
    second = "Our FIR ka number 871 hai aur SHO ne usay phaar diya, hum sab ke samne."
    masked = [copies.shingles(t, extract(t), words) for t in (first, second)]
    assert masked[0] == masked[1]
    assert copies.HASHING == 8
