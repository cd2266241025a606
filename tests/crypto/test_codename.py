"""Codenames: generation, the checksum word, normalisation, and key derivation."""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Callable
from importlib import resources

import pytest

from crypto import (
    CodenameError,
    FormatError,
    KdfParams,
    check_codename,
    derive_source_keys,
    generate_codename,
    generate_digit_codename,
    holds_codename,
    normalize_codename,
    random_words,
)
from crypto import constants as C
from crypto.codename import LONGEST_TYPED, wordlist
from tests.crypto.support import reference_checksum_word

# PROTOCOL.md §7.2's example codename.
CANONICAL = "abacus tricky prism lagoon nectar dwelling sulfur outnumber"
SALT = bytes(16)
# Reproducible samples; these are test data, not secrets.
_RNG_SEED = 20_251_128


def _codename(words: list[str]) -> str:
    return " ".join([*words, reference_checksum_word(words, wordlist())])


# A codename with a hyphenated word, to exercise dash folding.
HYPHENATED = _codename(["t-shirt", "tricky", "prism", "lagoon", "nectar", "dwelling", "sulfur"])


def _full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def test_wordlist_is_the_eff_large_list() -> None:
    data = resources.files("crypto").joinpath("data/eff_large_wordlist.txt").read_bytes()
    words = wordlist()

    assert hashlib.sha256(data).hexdigest() == (
        "6d557f0693958fb5e650b68b5bee585eb82cf4da32965505c789e924743bc522"
    )
    assert len(words) == len(set(words)) == C.WORDLIST_SIZE == 7776
    assert all(w.isascii() and w == w.lower() and " " not in w for w in words)


def test_seven_random_words_give_at_least_90_bits() -> None:
    assert C.CODENAME_RANDOM_WORDS * math.log2(C.WORDLIST_SIZE) >= 90
    assert C.CODENAME_WORDS == 8


def test_generated_codename_has_eight_listed_words_and_checks() -> None:
    known = set(wordlist())
    for _ in range(20):
        codename = generate_codename()
        words = codename.split(" ")

        assert len(words) == 8
        assert set(words) <= known
        assert check_codename(codename) == codename
        assert words[7] == reference_checksum_word(words[:7], wordlist())


def test_generated_codenames_differ() -> None:
    assert len({generate_codename() for _ in range(50)}) == 50


def test_random_words_draw_uniformly_from_the_whole_list(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each word is one `secrets.randbelow(7776)`: uniform over the list, from the OS CSPRNG."""
    calls: list[int] = []

    def randbelow(n: int) -> int:
        calls.append(n)
        return n - 1

    monkeypatch.setattr("crypto.codename.secrets.randbelow", randbelow)

    words = random_words(7)

    assert calls == [7776] * 7
    assert words == [wordlist()[-1]] * 7


def test_checksum_word_matches_the_specification() -> None:
    """PROTOCOL.md §7.2: BLAKE2b-64 of the seven words picks the eighth."""
    words = CANONICAL.split(" ")[:7]
    digest = hashlib.blake2b(" ".join(words).encode(), digest_size=8, person=b"rz-codename-chk1")

    assert digest.hexdigest() == "bb00e21736b194f0"
    assert check_codename(CANONICAL).split(" ")[7] == "outnumber"


def test_every_wrong_checksum_word_is_caught() -> None:
    words = CANONICAL.split(" ")
    accepted = []
    for word in wordlist():
        if word != words[7]:
            try:
                check_codename(" ".join([*words[:7], word]))
            except CodenameError:
                continue
            accepted.append(word)

    assert accepted == []


@pytest.mark.parametrize("position", range(7))
def test_single_word_substitution_is_caught(position: int) -> None:
    """A sample of 150 substitutions at each of the seven random words."""
    words = CANONICAL.split(" ")
    accepted = []
    for word in wordlist()[position::52]:
        if word != words[position]:
            typo = [*words[:position], word, *words[position + 1 :]]
            try:
                check_codename(" ".join(typo))
            except CodenameError:
                continue
            accepted.append(word)

    assert accepted == []


def test_adjacent_word_swaps_are_caught() -> None:
    rng = random.Random(_RNG_SEED)  # noqa: S311 - a reproducible sample, not a secret
    accepted = []
    for _ in range(60):
        words = _codename([rng.choice(wordlist()) for _ in range(7)]).split(" ")
        for i in range(7):
            if words[i] != words[i + 1]:
                swapped = words.copy()
                swapped[i], swapped[i + 1] = swapped[i + 1], swapped[i]
                try:
                    check_codename(" ".join(swapped))
                except CodenameError:
                    continue
                accepted.append(" ".join(swapped))

    assert accepted == []


def test_checksum_misses_only_about_one_error_in_7776() -> None:
    """A hash checksum cannot catch every error; it misses about 1 in 7776 of them.

    Over every substitution of one of the seven words of the example codename, few
    go unnoticed; and here is an adjacent swap that the checksum does not catch.
    """
    words = CANONICAL.split(" ")
    total = undetected = 0
    for position in range(7):
        for word in wordlist():
            if word != words[position]:
                typo = [*words[:position], word, *words[position + 1 : 7]]
                total += 1
                undetected += reference_checksum_word(typo, wordlist()) == words[7]

    assert undetected <= total / 2000
    swapped = "broiler retool frightful decree scheming unequal king envy"
    assert check_codename(swapped) == swapped


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "   ",
        "abacus tricky prism lagoon nectar dwelling sulfur",
        CANONICAL + " abacus",
        "abacus tricky prizm lagoon nectar dwelling sulfur outnumber",
        "abacus tricky prism lagoon nectar dwelling sulfur outnumbers",
        "abacus tricky prism lagoon nectar dwelling sulfur abacus",
        "abacustricky prism lagoon nectar dwelling sulfur outnumber",
        "abacus, tricky, prism, lagoon, nectar, dwelling, sulfur, outnumber",
        "abacus-tricky-prism-lagoon-nectar-dwelling-sulfur-outnumber",
        "1 2 3 4 5 6 7 8",
        "\u0627\u0628 tricky prism lagoon nectar dwelling sulfur outnumber",
    ],
    ids=[
        "empty",
        "blank",
        "seven-words",
        "nine-words",
        "misspelt-word",
        "misspelt-checksum",
        "wrong-checksum",
        "words-run-together",
        "commas",
        "dashes-for-spaces",
        "digits",
        "urdu-letters",
    ],
)
def test_mistyped_codename_is_refused(typed: str) -> None:
    with pytest.raises(CodenameError):
        check_codename(typed)


def test_codename_error_never_echoes_the_words() -> None:
    typo = CANONICAL.replace("prism", "prizm")

    with pytest.raises(CodenameError) as caught:
        check_codename(typo)
    for word in typo.split(" "):
        assert word not in str(caught.value)


def test_a_codename_padded_to_the_longest_typed_is_read_and_one_more_is_refused() -> None:
    padded = CANONICAL + " " * (LONGEST_TYPED - len(CANONICAL))
    assert check_codename(padded) == CANONICAL
    with pytest.raises(CodenameError, match="far shorter"):
        check_codename(padded + " ")


def test_normalising_reads_no_more_than_a_codename_can_be() -> None:
    """NFKC makes 18 letters of U+FDFA: a login box full of them was normalised whole."""
    assert normalize_codename("\ufdfa" * 100_000) == normalize_codename(
        "\ufdfa" * (LONGEST_TYPED + 1)
    )
    assert len(normalize_codename("\ufdfa" * (LONGEST_TYPED + 2))) > LONGEST_TYPED


NORMALISES_TO_CANONICAL = {
    "upper-case": CANONICAL.upper(),
    "title-case": CANONICAL.title(),
    "extra-spaces": "  abacus   tricky prism  lagoon nectar dwelling sulfur outnumber  ",
    "tabs-and-newlines": "abacus\ttricky\nprism\r\nlagoon nectar dwelling sulfur outnumber\n",
    "nbsp": CANONICAL.replace(" ", "\u00a0"),
    "narrow-nbsp": CANONICAL.replace(" ", "\u202f"),
    "ideographic-space": CANONICAL.replace(" ", "\u3000"),
    "em-space": CANONICAL.replace(" ", "\u2003"),
    "line-separator": CANONICAL.replace(" ", "\u2028"),
    "zero-width-space": "aba\u200bcus tricky\u200b prism lagoon nectar dwelling sulfur outnumber",
    "zwnj-zwj": "abacus tri\u200ccky pri\u200dsm lagoon nectar dwelling sulfur outnumber",
    "bom-word-joiner": "\ufeffabacus tricky prism lag\u2060oon nectar dwelling sulfur outnumber",
    "soft-hyphen": "abacus tricky prism lagoon nectar dwelling sul\u00adfur outnumber",
    "direction-marks": "\u200fabacus tricky prism lagoon\u200e nectar dwelling sulfur outnumber",
    # An Urdu keyboard's Arabic letter mark, and pasted bidi embeddings and isolates.
    "arabic-letter-mark": "\u061cabacus tricky prism\u061c lagoon nectar dwelling sulfur outnumber",
    "bidi-embedding": "\u202babacus tricky prism lagoon nectar dwelling sulfur outnumber\u202c",
    "bidi-isolate": "\u2067abacus tricky\u2069 prism lagoon nectar dwelling sulfur outnumber",
    "full-width": _full_width(CANONICAL),
    "full-width-upper": _full_width(CANONICAL.upper()),
    "protocol-example": (
        "\u00a0 ABACUS\u200b tricky  Prism\tlagoon nectar dwelling sul\u00adfur OUTNUMBER\n"
    ),
}


@pytest.mark.parametrize("typed", NORMALISES_TO_CANONICAL.values(), ids=NORMALISES_TO_CANONICAL)
def test_codename_normalisation_folds_what_keyboards_vary(typed: str) -> None:
    assert normalize_codename(typed) == CANONICAL
    assert check_codename(typed) == CANONICAL


@pytest.mark.parametrize(
    "dash",
    [
        "\u2010",
        "\u2011",
        "\u2012",
        "\u2013",
        "\u2014",
        "\u2015",
        "\u2212",
        "\ufe58",
        "\ufe63",
        "\uff0d",
    ],
)
def test_unicode_dashes_fold_to_the_hyphen(dash: str) -> None:
    assert check_codename(HYPHENATED.replace("-", dash)) == HYPHENATED


def test_normalised_variants_derive_the_same_keys() -> None:
    expected = derive_source_keys(CANONICAL, SALT, KdfParams.TESTING)
    variants = [*NORMALISES_TO_CANONICAL.values()]

    for typed in variants:
        keys = derive_source_keys(typed, SALT, KdfParams.TESTING)
        assert keys.lookup_tag == expected.lookup_tag
        assert keys.private_key == expected.private_key

    hyphen = derive_source_keys(HYPHENATED, SALT, KdfParams.TESTING)
    for typed in [HYPHENATED.replace("-", "\u2212").upper(), _full_width(HYPHENATED)]:
        assert derive_source_keys(typed, SALT, KdfParams.TESTING).public_key == hyphen.public_key


def test_derivation_is_deterministic() -> None:
    first = derive_source_keys(CANONICAL, SALT, KdfParams.TESTING)
    second = derive_source_keys(CANONICAL, SALT, KdfParams.TESTING)

    assert first.lookup_tag == second.lookup_tag
    assert first.private_key == second.private_key
    assert first.public_key == second.public_key


def test_derivation_follows_the_specification() -> None:
    """PROTOCOL.md §7.3: Argon2id master, then BLAKE2b under two labels."""
    keys = derive_source_keys(CANONICAL.upper(), SALT, KdfParams.TESTING)
    master = KdfParams.TESTING.derive(CANONICAL.encode("ascii"), SALT, 64)

    lookup = hashlib.blake2b(b"", digest_size=32, key=master, person=b"rz-src-lookup-v1").digest()
    secret = hashlib.blake2b(b"", digest_size=32, key=master, person=b"rz-src-x25519-v1").digest()
    assert keys.lookup_tag == lookup
    assert keys.private_key.secret_bytes() == secret


def test_derived_subkeys_are_separated_by_their_labels() -> None:
    keys = derive_source_keys(CANONICAL, SALT, KdfParams.TESTING)
    secret = keys.private_key.secret_bytes()

    assert len(keys.lookup_tag) == 32
    assert keys.lookup_tag != secret
    assert keys.lookup_tag != keys.public_key.raw
    assert keys.lookup_tag[:16] not in secret


@pytest.mark.parametrize(
    ("codename", "salt", "params"),
    [
        (CANONICAL, bytes([1]) + bytes(15), KdfParams.TESTING),
        (CANONICAL, bytes(15) + bytes([1]), KdfParams.TESTING),
        (HYPHENATED, SALT, KdfParams.TESTING),
        (CANONICAL, SALT, KdfParams(ops=2, mem=KdfParams.TESTING.mem)),
        (CANONICAL, SALT, KdfParams(ops=1, mem=16 * 1024)),
    ],
    ids=["salt-first-byte", "salt-last-byte", "other-codename", "more-passes", "more-memory"],
)
def test_any_change_of_input_changes_every_derived_key(
    codename: str, salt: bytes, params: KdfParams
) -> None:
    base = derive_source_keys(CANONICAL, SALT, KdfParams.TESTING)
    other = derive_source_keys(codename, salt, params)

    assert other.lookup_tag != base.lookup_tag
    assert other.private_key != base.private_key


@pytest.mark.parametrize("salt", [b"", bytes(15), bytes(17), bytes(32)])
def test_derivation_refuses_a_salt_of_the_wrong_size(salt: bytes) -> None:
    with pytest.raises(FormatError, match="salt"):
        derive_source_keys(CANONICAL, salt, KdfParams.TESTING)


def test_derivation_refuses_a_typo_before_any_work(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_kdf(*args: object) -> bytes:
        raise AssertionError("the KDF ran on a codename that does not check")

    monkeypatch.setattr(KdfParams, "derive", no_kdf)

    with pytest.raises(CodenameError):
        derive_source_keys(CANONICAL.replace("prism", "prizm"), SALT, KdfParams.TESTING)


# --- a codename in free text (a report's message) -----------------------------------------


@pytest.mark.parametrize("typed", NORMALISES_TO_CANONICAL.values(), ids=NORMALISES_TO_CANONICAL)
def test_a_codename_is_found_in_text_however_typed(typed: str) -> None:
    assert holds_codename(typed)
    assert holds_codename(f"Reply to me: «{typed}». The SHO took money.")
    assert holds_codename(f"میرا کوڈ نیم {typed}، جواب دیں")


def test_a_hyphenated_codename_is_found_in_text() -> None:
    typed = HYPHENATED.replace("-", "\u2011")
    assert holds_codename(f"codename:{typed}!")


_URDU_DIGITS = str.maketrans(
    "0123456789", "\u06f0\u06f1\u06f2\u06f3\u06f4\u06f5\u06f6\u06f7\u06f8\u06f9"
)


@pytest.mark.parametrize(
    "written",
    [
        lambda c: c,
        lambda c: c.replace(" ", ""),
        lambda c: c.replace(" ", "-"),
        lambda c: c.translate(_URDU_DIGITS),
    ],
    ids=["grouped", "run-together", "hyphens", "urdu-digits"],
)
def test_a_digit_codename_is_found_in_text(written: Callable[[str], str]) -> None:
    codename = generate_digit_codename()
    assert holds_codename(f"number {written(codename)}, please")


def test_text_that_only_resembles_a_codename_is_not_one() -> None:
    words = CANONICAL.split()
    assert not holds_codename(" ".join(words[:-1]))  # seven words
    assert not holds_codename(" ".join([*words[:-1], words[0]]))  # the wrong eighth
    assert not holds_codename(CANONICAL.replace("prism", "prisms"))  # a word off the list
    digits = generate_digit_codename()
    assert not holds_codename(digits[:-1])  # 28 digits
    assert not holds_codename(f"{digits}1")  # 30
    wrong = str((int(digits[-1]) + 1) % 10)
    assert not holds_codename(digits[:-1] + wrong)  # the check digit off
    # A list of phone numbers and a CNIC, as a report may hold them.
    assert not holds_codename("0300-1234567 0321-7654321, 35202-1234567-1 0345-111222")
    assert not holds_codename("")
