"""Codenames: diceware words a source remembers, and the keys derived from them.

A codename is seven words drawn uniformly from the EFF large wordlist (90.5 bits)
and an eighth word that is a checksum of the seven, so a mistyped codename is
told apart from a wrong one without asking the server.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Final

from crypto import constants as C
from crypto.encoding import b64decode, b64encode, blake2b
from crypto.errors import CodenameError, FormatError
from crypto.kdf import KdfParams
from crypto.keys import PrivateKey, PublicKey, SigningKey, VerifyKey

# Zero-width characters that phone keyboards (Urdu ones especially) slip in.
_INVISIBLE: Final = re.compile("[\u00ad\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")
# Dashes that keyboards substitute for the hyphen in words like "t-shirt".
_DASHES: Final = re.compile("[\u2010-\u2015\u2212\ufe58\ufe63\uff0d]")
# The most characters a typed codename may have before it is normalised. Eight words of at
# most nine letters and their spaces are 79, with room here for every mark a keyboard slips
# in; NFKC makes as many as 18 characters of one (U+FDFA), and a login box holding a
# megabyte of those cost the server seconds of CPU and a hundred MiB to find it no codename.
LONGEST_TYPED: Final = 1024


# Codenames of digits, for people who memorise numbers more easily than English
# words (Urdu pages): 28 random digits (93.0 bits, above the words' 90.5) and a
# Damm check digit, which catches every single wrong digit and every swap of
# neighbours; written in groups of five, accepted in Western, Urdu (U+06F0-U+06F9)
# or Arabic-Indic (U+0660-U+0669) digits, with or without spaces or hyphens.
DIGIT_CODENAME_DIGITS: Final = 28
_DIGIT_GROUP: Final = 5
_TO_WESTERN: Final = str.maketrans(
    "\u06f0\u06f1\u06f2\u06f3\u06f4\u06f5\u06f6\u06f7\u06f8\u06f9"
    "\u0660\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669",
    "01234567890123456789",
)
_DIGITS_TYPED: Final = re.compile(r"[0-9][0-9 \-]*")
# The Damm quasigroup of order 10 (H. M. Damm, 2004), as tabulated on Wikipedia.
_DAMM: Final = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)


def _damm(digits: str) -> int:
    interim = 0
    for d in digits:
        interim = _DAMM[interim][int(d)]
    return interim


def _grouped(digits: str) -> str:
    return " ".join(digits[i : i + _DIGIT_GROUP] for i in range(0, len(digits), _DIGIT_GROUP))


def generate_digit_codename() -> str:
    """Make a new codename of digits: 28 random ones and a check digit, in groups of five."""
    digits = "".join(str(secrets.randbelow(10)) for _ in range(DIGIT_CODENAME_DIGITS))
    return _grouped(digits + str(_damm(digits)))


@cache
def wordlist() -> tuple[str, ...]:
    """Return the EFF large wordlist (CC BY 3.0 US, Electronic Frontier Foundation)."""
    text = resources.files("crypto").joinpath("data/eff_large_wordlist.txt").read_text("ascii")
    words = tuple(text.split())
    if len(words) != C.WORDLIST_SIZE or len(set(words)) != C.WORDLIST_SIZE:
        raise FormatError("the bundled wordlist is damaged")
    return words


@cache
def _index() -> dict[str, int]:
    return {word: i for i, word in enumerate(wordlist())}


def random_words(count: int) -> list[str]:
    """Draw `count` words uniformly at random with `secrets`."""
    words = wordlist()
    return [words[secrets.randbelow(len(words))] for _ in range(count)]


def _checksum_word(words: list[str]) -> str:
    digest = blake2b(" ".join(words).encode("ascii"), person=C.PERSON_CODENAME_CHECK, size=8)
    return wordlist()[int.from_bytes(digest, "big") % C.WORDLIST_SIZE]


def generate_codename() -> str:
    """Make a new codename: seven random words and a checksum word."""
    words = random_words(C.CODENAME_RANDOM_WORDS)
    return " ".join([*words, _checksum_word(words)])


def normalize_codename(text: str) -> str:
    """Fold case, width and invisible characters, and collapse any whitespace to one space.

    Only the first `LONGEST_TYPED` characters and one more are read: anything longer is no
    codename (`check_codename` refuses it), and stays longer than one.
    """
    folded = unicodedata.normalize("NFKC", text[: LONGEST_TYPED + 1]).casefold()
    words = " ".join(_DASHES.sub("-", _INVISIBLE.sub("", folded)).split())
    western = words.translate(_TO_WESTERN)
    if _DIGITS_TYPED.fullmatch(western):
        # Digits: the separators are the typist's; the groups of five are the form's.
        return _grouped(western.replace(" ", "").replace("-", ""))
    return words


def check_codename(text: str) -> str:
    """Return the normalised codename, or raise `CodenameError` saying what is wrong."""
    if len(text) > LONGEST_TYPED:
        raise CodenameError(f"a codename is far shorter: this has {len(text)} characters")
    normalized = normalize_codename(text)
    digits = normalized.replace(" ", "")
    if digits.isdigit() and digits.isascii():
        if len(digits) != DIGIT_CODENAME_DIGITS + 1:
            raise CodenameError(
                f"a codename of digits has {DIGIT_CODENAME_DIGITS + 1}; this has {len(digits)}"
            )
        if _damm(digits) != 0:
            raise CodenameError("the check digit does not fit: check the codename for a typo")
        return normalized
    words = normalized.split(" ")
    if len(words) != C.CODENAME_WORDS:
        raise CodenameError(f"a codename has {C.CODENAME_WORDS} words; this has {len(words)}")
    unknown = [w for w in words if w not in _index()]
    if unknown:
        raise CodenameError("a word is not in the codename word list")
    if _checksum_word(words[:-1]) != words[-1]:
        raise CodenameError("the words do not fit together: check the codename for a typo")
    return " ".join(words)


# In free text: a run of digits written as a codename may be (a space or hyphen
# between any two), and the letters a codename's words are made of.
_DIGIT_RUN: Final = re.compile(r"[0-9](?:[ \-]?[0-9])*")
_NOT_WORD: Final = re.compile(r"[^a-z\-]+")


def holds_codename(text: str) -> bool:
    """Say whether free text holds a well-formed codename, however it was typed.

    A run of exactly the digits of a codename whose check digit fits, or eight
    words of the list in a row whose last is their checksum: a report quoting
    the list's words or a phone number is not one but one time in 7776 or 10.
    """
    folded = unicodedata.normalize("NFKC", text).casefold()
    plain = _DASHES.sub("-", _INVISIBLE.sub("", folded)).translate(_TO_WESTERN)
    for run in _DIGIT_RUN.finditer(plain):
        digits = run.group().replace(" ", "").replace("-", "")
        if len(digits) == DIGIT_CODENAME_DIGITS + 1 and _damm(digits) == 0:
            return True
    index = _index()
    words = [word for word in _NOT_WORD.split(plain) if word]
    listed = 0
    for end, word in enumerate(words, 1):
        listed = listed + 1 if word in index else 0
        if (
            listed >= C.CODENAME_WORDS
            and _checksum_word(words[end - C.CODENAME_WORDS : end - 1]) == word
        ):
            return True
    return False


CODENAME_SALT_BYTES: Final = 16


@dataclass(frozen=True, slots=True)
class CodenameParams:
    """An instance's codename salt and Argon2id settings, as its signed keyring lists them."""

    salt: bytes
    kdf: KdfParams

    def __post_init__(self) -> None:
        if len(self.salt) != CODENAME_SALT_BYTES:
            raise FormatError(f"a codename salt is {CODENAME_SALT_BYTES} bytes")

    def to_dict(self) -> dict[str, Any]:
        """Serialise for the keyring manifest."""
        return {"salt": b64encode(self.salt), "kdf": self.kdf.to_dict()}

    @classmethod
    def from_dict(cls, value: Any) -> CodenameParams:
        """Parse what `to_dict` wrote, strictly."""
        if not isinstance(value, dict) or set(value) != {"salt", "kdf"}:
            raise FormatError("codename parameters must have salt and kdf")
        if not isinstance(value["salt"], str):
            raise FormatError("the codename salt must be a string")
        salt = b64decode(value["salt"], length=CODENAME_SALT_BYTES)
        return cls(salt, KdfParams.from_dict(value["kdf"]))


@dataclass(frozen=True, slots=True)
class SourceKeys:
    """What a codename yields: the tag the server looks a source up by, and two key pairs.

    The X25519 key opens replies; the Ed25519 key signs the submission API's
    request proofs (docs/PROTOCOL.md §16).
    """

    lookup_tag: bytes
    private_key: PrivateKey
    signing_key: SigningKey

    @property
    def public_key(self) -> PublicKey:
        """The source's public key, which replies are sealed to."""
        return self.private_key.public_key

    @property
    def verify_key(self) -> VerifyKey:
        """The source's public signing key, which the server checks request proofs with."""
        return self.signing_key.verify_key

    def __repr__(self) -> str:
        return f"SourceKeys(public={str(self.public_key.fingerprint)!r})"


def derive_source_keys(codename: str, salt: bytes, params: KdfParams) -> SourceKeys:
    """Derive a source's lookup tag, X25519 key pair and Ed25519 key pair from a codename.

    Argon2id over the normalised codename and the instance salt gives a master
    secret; BLAKE2b under distinct labels splits it into independent subkeys, so
    adding the signing key changed neither the tag nor the X25519 key.
    """
    normalized = check_codename(codename)
    master = params.derive(normalized.encode("ascii"), salt, 64)
    lookup = blake2b(b"", key=master, person=C.PERSON_SOURCE_LOOKUP)
    secret = blake2b(b"", key=master, person=C.PERSON_SOURCE_X25519)
    seed = blake2b(b"", key=master, person=C.PERSON_SOURCE_ED25519)
    return SourceKeys(
        lookup_tag=lookup, private_key=PrivateKey(secret), signing_key=SigningKey(seed)
    )
