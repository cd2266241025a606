"""What a reader takes a name for: the names people tell keys apart by, each look-alike made one.

A keyring's holders and reviewers, and the workstation's escalation bodies, are
known by name: a name that reads as another's (Cyrillic letters for Latin ones,
"N.C.H.R." for "NCHR", an Arabic yeh for Urdu's) is that name to whoever reads it.
"""

from __future__ import annotations

import unicodedata
from importlib import resources

# Letters read as Latin ones, by case (Greek capital nu is an N, its small letter a v).
_AS_LATIN = str.maketrans(
    "АВЕКМНОРСТУХЅІЈаеорсухѕіјһԁԛԝӏкΑΒΕΖΗΙΚΜΝΟΡΤΥΧαορικνυ",
    "ABEKMHOPCTYXSIJaeopcyxsijhdqwlkABEZHIKMNOPTYXaopikvu",
)


def _lookalikes() -> dict[int, str]:
    """Unicode's own list of what reads as an ASCII letter or digit (crypto/data/lookalikes.txt)."""
    text = resources.files("crypto").joinpath("data/lookalikes.txt").read_text("ascii")
    rows = (line.split() for line in text.splitlines() if line and not line.startswith("#"))
    return {int(code, 16): letter for code, letter in rows}


# A hand-kept few missed Armenian's oh, Cherokee's capitals, Latin small capitals and
# more: each gave a second "Holder Two" (UTS #39's list has some 1300 such letters).
_LOOKALIKES = _lookalikes()

# After case folding: digits and strokes read as letters, the Arabic forms of the letters
# Urdu writes its own way, and the stretching stroke (tatweel), which is no letter.
_READ_AS = str.maketrans(
    {
        "0": "o",
        "1": "l",
        "i": "l",
        "|": "l",
        "\u064a": "\u06cc",  # Arabic yeh: Urdu's farsi yeh
        "\u0649": "\u06cc",  # alef maksura
        "\u0643": "\u06a9",  # Arabic kaf: Urdu's keheh
        "\u0647": "\u06c1",  # Arabic heh: Urdu's heh goal
        "\u0629": "\u06c1",  # teh marbuta
        "\u06c3": "\u06c1",  # teh marbuta goal
        "\u0623": "\u0627",  # alefs with hamza or madda: alef
        "\u0625": "\u0627",
        "\u0622": "\u0627",
        "\u0671": "\u0627",
        "\u0640": None,
    }
)


def skeleton(name: str) -> str:
    """What a reader takes a name for: its letters and digits, each look-alike made one."""
    text = unicodedata.normalize("NFKC", name).translate(_AS_LATIN).translate(_LOOKALIKES)
    kept = []
    for char in unicodedata.normalize("NFKD", text.casefold()).translate(_LOOKALIKES):
        kind = unicodedata.category(char)[0]
        if kind == "N":  # Urdu's and Arabic's digits as the ASCII ones
            kept.append(str(unicodedata.digit(char, char)))
        elif kind == "L" or char == "|":
            kept.append(char)
    return "".join(kept).translate(_READ_AS).replace("rn", "m").replace("vv", "w")
