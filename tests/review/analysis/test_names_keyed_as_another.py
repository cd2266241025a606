"""Two different names never share a key, in any of the three registers.

A probe of session 20 wrote some four hundred names of Bannu to Tank ("ASI <name> of Thana
Domel" in English, lower-case Roman Urdu and Urdu) and grouped them by key. Besides the
spellings of one name that should share one (Yusuf and Yousaf), these different names did,
so two ASIs of one station bearing them linked strongly as one man:
- by their consonants, for names the list lacked: Faizullah, Fazlullah and Fazil ("fzl");
  Anwarullah and Noorullah ("nrl"); Islam and Salam ("slm"); Khalilullah and Aqil ("kl");
- as near spellings of a listed name: Naseerullah as Nasrullah, Rashad as Rashid, Zahir as
  Zaheer, Raziq as Razzaq, Aqil (عاقل) as Aqeel (عقیل).
Most of them were also unread in lower-case Roman Urdu.
"""

from __future__ import annotations

import itertools

import pytest

from review.analysis.entities import extract

# Each name in Latin letters and in Urdu.
APART = [
    ("Faizullah Khan", "فیض اللہ خان"),
    ("Fazlullah Khan", "فضل اللہ خان"),
    ("Fazil Khan", "فاضل خان"),
    ("Fazal Khan", "فضل خان"),
    ("Anwarullah Khan", "انوار اللہ خان"),
    ("Noorullah Khan", "نور اللہ خان"),
    ("Islam Khan", "اسلام خان"),
    ("Salam Khan", "سلام خان"),
    ("Khalilullah Khan", "خلیل اللہ خان"),
    ("Aqil Khan", "عاقل خان"),
    ("Aqeel Khan", "عقیل خان"),
    ("Naseerullah Khan", "نصیر اللہ خان"),
    ("Nasrullah Khan", "نصر اللہ خان"),
    ("Rashad Khan", "رشاد خان"),
    ("Rashid Khan", "راشد خان"),
    ("Zahir Khan", "ظاہر خان"),
    ("Zaheer Khan", "ظہیر خان"),
    ("Abdul Raziq", "عبدالرازق"),
    ("Abdul Razzaq", "عبدالرزاق"),
]


def _key(latin: str, urdu: str) -> set[str]:
    """The keys a name gets in the three registers."""
    texts = (
        f"ASI {latin} of Thana Domel took money.",
        f"asi {latin.lower()} thana domel me hai",
        f"تھانہ ڈومیل کے اے ایس آئی {urdu} نے پیسے لیے۔",
    )
    return {e.key for text in texts for e in extract(text) if e.kind == "person"}


@pytest.mark.parametrize(("latin", "urdu"), [n for n in APART if n[0] != "Salam Khan"])
def test_each_name_has_one_key_in_the_three_registers(latin: str, urdu: str) -> None:
    assert len(_key(latin, urdu)) == 1, _key(latin, urdu)


@pytest.mark.parametrize(("one", "other"), list(itertools.combinations(APART, 2)))
def test_no_two_of_them_share_a_key(one: tuple[str, str], other: tuple[str, str]) -> None:
    assert not _key(*one) & _key(*other)


@pytest.mark.parametrize(
    "text",
    [
        "میرا نام ظاہر نہ کریں۔",  # "do not make my name known"
        "mera naam zahir na karen",
        "میرا نام شریف نہ لکھیں",  # "do not write my name, decent (sir)"
    ],
)
def test_an_everyday_word_after_name_is_no_name(text: str) -> None:
    assert [e.key for e in extract(text) if e.kind == "person"] == []


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("اس کا نام شریف ہے۔", "sharif"),
        ("اس کا نام ظاہر شاہ ہے۔", "zahir shah"),
        ("munshi zahir shah bohat zalim hai", "zahir shah"),
    ],
)
def test_the_name_itself_is_still_read(text: str, key: str) -> None:
    assert [e.key for e in extract(text) if e.kind == "person"] == [key]


# Ayesha (عائشہ, "Aisha") and Isha (ایشا, "Eesha") are two women's names: the Roman rule
# that reads a first "ai" as "i" ("Aijaz", "Ijaz") made "Isha" Ayesha. Each name's spellings.
AYESHA = [
    "Ayesha Naz",
    "Aisha Naz",
    "Aysha Naz",
    "Ayisha Naz",
    "Aishah Naz",
    "عائشہ ناز",
    "عایشہ ناز",
]
ISHA = ["Isha Naz", "Eesha Naz", "Esha Naz", "Eisha Naz", "ایشا ناز", "عیشا ناز"]


def _keys(names: list[str]) -> set[str]:
    """The keys the names get, each in a text of its own script."""
    texts = [
        f"Lady constable {name} of Thana Domel took money."
        if name.isascii()
        else f"تھانہ ڈومیل کی لیڈی کانسٹیبل {name} نے پیسے لیے۔"
        for name in names
    ]
    return {e.key for text in texts for e in extract(text) if e.kind == "person"}


def test_isha_is_not_ayesha_and_each_is_one_name() -> None:
    # The attack: a constable Isha Naz and a constable Ayesha Naz of one station linked
    # strongly as one woman, while "Aysha Naz" and "Ayesha Naz" did not link at all.
    assert not _keys(AYESHA) & _keys(ISHA), (_keys(AYESHA), _keys(ISHA))
    assert len(_keys(AYESHA)) == 1, _keys(AYESHA)
    assert len(_keys(ISHA)) == 1, _keys(ISHA)
