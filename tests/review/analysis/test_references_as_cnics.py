"""A reference number of a CNIC's length (an FIR's, a case's, an account's) is no CNIC.

The attack (session 39): a CNIC links two reports strongly by itself, and any thirteen
digits that begin with 1 to 7 were read as one, whatever stood before them. A family wrote
the agent's bank account ("account no. 3520212345671") and another, in another district,
the CNIC of a man their FIR named ("CNIC 35202-1234567-1"): one key, a strong link
between two strangers, counted as corroboration. So were FIR, case, challan and tracking
numbers, passport numbers, and a foreign phone number written without its plus. A number
a reference's or a phone's word names is that, not a card's; a card's word (or none)
still makes it a CNIC, however its digits are written or grouped.

Left by session 39: no longer a CNIC, such a number was no entity at all, and so no longer
suggested for redaction, though a reference can tell who the source is as well as a card
can (her own FIR's number, her bank account). It is a reference number now (kind
"reference"): suggested for redaction as one, and linked only weakly, never as a CNIC.
"""

from __future__ import annotations

import pytest

from review.analysis import links
from review.analysis.entities import extract
from review.escalation.redaction import Redactor, Term, candidates
from tests.review.analysis.person_links import corpus_of


def _cnics(text: str) -> list[str]:
    return [e.key for e in extract(text) if e.kind == "cnic"]


@pytest.mark.parametrize(
    "text",
    [
        "FIR No. 3520212345671 was registered at Thana Saddar.",
        "FIR number 35202-1234567-1 dated 3 March",
        "Case No. 35202-1234567-1 is pending in the sessions court.",
        "His account number 3520212345671 at HBL received the money.",
        "The agent's bank account: 35202-1234567-1 (Meezan Bank).",
        "Send it to a/c 3520212345671 said the munshi.",
        "IBAN PK36 MEZN 3520212345671 was the agent's.",
        "My son's passport no. 3520212345671 is with the agent.",
        "challan no 3520212345671 was given to us",
        "Complaint tracking id 3520212345671 on the 8787 portal.",
        "mera account 3520212345671 hai, agent ne paise wahan mangwaye",
        "ایف آئی آر نمبر 3520212345671 درج ہوئی۔",
        "مقدمہ نمبر ۳۵۲۰۲۱۲۳۴۵۶۷۱ عدالت میں ہے۔",
        "ایجنٹ کا اکاؤنٹ نمبر 35202-1234567-1 ہے۔",
        "پاسپورٹ نمبر 3520212345671 ایجنٹ کے پاس ہے۔",
        "His brother in Germany, whatsapp 4915123456789, sent the money.",
        "The agent's phone: +92 34101 2345678 9 (it does not work).",
        "The agent's CNIC is with us, and his account 35202-1234567-1 got the money.",
        "We have his CNIC. Account no. 3520212345671 is where we sent it.",
    ],
)
def test_a_reference_number_of_a_cnics_length_is_no_cnic(text: str) -> None:
    assert _cnics(text) == [], text


@pytest.mark.parametrize(
    "text",
    [
        "CNIC 35202-1234567-1 of the agent",
        "the agent's CNIC No. 35202-1234567-1, his account 12345-6789012-3",
        "Agent Bilal Ahmed (CNIC 35202-1234567-1) took the passports.",
        "card 3520212345671.",
        "His number is unknown but his CNIC is 35202-1234567-1.",
        "The FIR names Bilal Ahmed, 35202-1234567-1, as the agent.",
        "CNIC 35202 1234567 1",
        "CNIC 3520 2123 4567 1",
        "CNIC: 35202 12345 67 1",
        "شناختی کارڈ نمبر ۳۵۲۰۲ ۱۲۳۴۵۶۷ ۱ ہے",  # noqa: RUF001 - Urdu digits
        "شناختی کارڈ ۳۵۲۰۲-۱۲۳۴۵۶۷-۱ ہے",  # noqa: RUF001 - Urdu digits
        "شناختی کارڈ نمبر ٣٥٢٠٢١٢٣٤٥٦٧١",  # Arabic-Indic digits
        "ID card no. 3 5 2 0 2 1 2 3 4 5 6 7 1",
        # what two held-out corpora write (session 39): the card's word earlier in the clause
        "Ghafoor's CNIC on the receipt: 35202-1234567-1.",
        "His CNIC is kept by the munshi, number copied from a phone photo: 35202-1234567-1.",
    ],
)
def test_a_cnic_however_written_is_still_a_cnic(text: str) -> None:
    assert _cnics(text)[:1] == ["35202-1234567-1"], text


def test_an_account_number_does_not_link_two_strangers_as_a_cnic() -> None:
    corpus = corpus_of(
        [
            "The agent in Gujrat took Rs 300,000 and asked us to send the rest to his account"
            " number 3520212345671 at Meezan Bank.",
            "The FIR at Thana City Mardan names the accused, CNIC 35202-1234567-1, who beat my"
            " husband.",
        ]
    )
    found = corpus.related(1).links.get(2)
    assert found is None or not any(e.kind == "cnic" for e in found.evidence), found
    assert corpus.related(1).corroborating == 0


def test_a_cnic_in_urdu_digits_and_spaced_still_links_strongly() -> None:
    corpus = corpus_of(
        [
            "ایجنٹ بلال احمد کا شناختی کارڈ نمبر ۳۵۲۰۲ ۱۲۳۴۵۶۷ ۱ ہے، وہ گجرات میں رہتا ہے۔",  # noqa: RUF001
            "Agent Bilal Ahmed, CNIC 35202-1234567-1, took my son's passport in Gujrat.",
        ]
    )
    (cnic,) = [e for e in corpus.related(1).links[2].evidence if e.kind == "cnic"]
    assert cnic.key == "35202-1234567-1"
    assert cnic.strength.level == links.STRONG


REFERENCED = [
    ("FIR No. 3520212345671 was registered at Thana Saddar.", "3520212345671"),
    ("His account number 35202-1234567-1 at HBL received the money.", "3520212345671"),
    ("IBAN PK36 MEZN 3520212345671 was the agent's.", "3520212345671"),
    ("Case No. 35202 1234567 1 is pending in the sessions court.", "3520212345671"),
    ("challan no 3520212345671 was given to us", "3520212345671"),
    ("mera account 3520212345671 hai, agent ne paise wahan mangwaye", "3520212345671"),
    ("ایف آئی آر نمبر 3520212345671 درج ہوئی۔", "3520212345671"),
    ("مقدمہ نمبر ۳۵۲۰۲۱۲۳۴۵۶۷۱ عدالت میں ہے۔", "3520212345671"),
]


@pytest.mark.parametrize(("text", "key"), REFERENCED)
def test_a_reference_number_of_a_cnics_length_is_suggested_for_redaction(
    text: str, key: str
) -> None:
    found = {(c.kind, c.key): c for c in candidates([text])}
    assert ("reference", key) in found, found
    (written,) = found[("reference", key)].forms
    redactor = Redactor([Term("reference", (written,))])
    redacted = redactor.apply(text)
    assert "Reference number 1" in redacted, redacted
    assert "1234567" not in redacted.translate(str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789"))


def test_a_phone_number_of_a_cnics_length_is_no_reference() -> None:
    text = "His brother in Germany, whatsapp 4915123456789, sent the money."
    assert [e.kind for e in extract(text) if e.kind in ("cnic", "reference")] == []


def test_one_account_number_in_two_reports_links_them_weakly_and_never_as_a_cnic() -> None:
    corpus = corpus_of(
        [
            "The agent in Gujrat took Rs 300,000 and asked us to send the rest to his account"
            " number 3520212345671 at Meezan Bank.",
            "We paid the agent's account 35202-1234567-1 too, at Meezan Bank in Gujrat.",
            "The FIR at Thana City Mardan names the accused, CNIC 35202-1234567-1, who beat my"
            " husband.",
        ]
    )
    (reference,) = [e for e in corpus.related(1).links[2].evidence if e.kind != "district"]
    assert (reference.kind, reference.key) == ("reference", "3520212345671")
    assert reference.strength.level == links.WEAK
    assert not reference.counts
    found = corpus.related(1).links.get(3)
    assert found is None or not found.evidence, found
    assert corpus.related(1).corroborating == 0
