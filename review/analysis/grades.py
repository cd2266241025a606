"""Senior and junior: how the people of a police station tell two men of one name apart.

Where two men of one name serve at one police station or office, their colleagues, and the
sources who deal with them, call one the senior and the other the junior, the elder and the
younger, the big one and the little one: "ASI Gul Zaman Senior", "Gul Zaman (junior)",
"asi gul zaman senior", "اے ایس آئی گل زمان سینئر", "chote gul zaman", "bade gul zaman asi",
"چھوٹے گل زمان", "gul zaman chota wala". An SHO Gul Zaman Senior and an SHO Gul Zaman Junior
are two men, whatever else their reports share, and a link on the name between them is the
confusion the words exist to prevent. So the word is kept with the person's designation
("ASI, the senior"; `designations`), where a reviewer sees it; `links.pair_strength` makes a
link on the name weak between a report of the senior and one of the junior, and, once the
archive holds both, between a report that says which and one that does not
(`links.Spread.GRADE`).

Read narrowly, since a link made weak costs a reviewer a confirmation and a word misread
costs the right link: the word right after the name (after a comma or in brackets too:
"Gul Zaman, the junior one"), right before it, or before the name's own rank ("the senior
ASI Gul Zaman"). Roman Urdu's and Urdu's "big" and "little" count only before the name, or
after it with "wala" ("gul zaman chota wala"): after a name they are everyday words ("gul
zaman bara zalim hai": a great tyrant). Where the name's words took the word in
("chota gul zaman": Chhota is a name's word too), it is taken out of the name and its key.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from typing import Final

from review.analysis import designations
from review.analysis.designations import JUNIOR, SENIOR, M
from review.analysis.entity_names import key_of
from review.analysis.entity_text import fold_phrase, spells_rank

# Words that mark a man the senior or the junior of two, wherever they stand by his name.
_OWN: Final = {
    SENIOR: ("senior", "snr", "sr", "elder", "سینئر", "سینیئر"),
    JUNIOR: ("junior", "jnr", "jr", "younger", "جونیئر", "جونیر"),
}
# "Big" and "little", the mark only before the name or with "wala" after it.
_SIZE: Final = {
    SENIOR: ("bara", "bada", "barra", "bare", "bade", "baray", "baday", "barey", "بڑا", "بڑے"),
    JUNIOR: (
        *("chota", "chhota", "chote", "chhote", "chotay", "chhotay", "chotey", "chhotey"),
        *("چھوٹا", "چھوٹے", "چھوٹو", "chotu", "chhotu"),
    ),
}
# Before a rank: only the English words, which say the man's standing ("the senior ASI").
_BEFORE_RANK: Final = frozenset(("senior", "junior"))
_GRADE: Final = {w: g for table in (_OWN, _SIZE) for g, ws in table.items() for w in ws}
_SIZE_GRADE: Final = frozenset(w for ws in _SIZE.values() for w in ws)


def _alternation(words: Sequence[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


_OWN_WORDS: Final = _alternation([w for ws in _OWN.values() for w in ws])
_SIZE_WORDS: Final = _alternation([w for ws in _SIZE.values() for w in ws])
_WALA_WORDS: Final = r"(?:wala|wale|walay|والا|والے)(?!\w)"
_AFTER: Final = re.compile(
    rf"\s*(?:,\s*(?:the\s+)?|\(\s*)?(?P<g>{_OWN_WORDS})\.?(?!\w)"
    rf"|\s+(?P<s>{_SIZE_WORDS})\s+{_WALA_WORDS}",
    re.IGNORECASE,
)
_WALA: Final = re.compile(rf"\s+{_WALA_WORDS}", re.IGNORECASE)
_WORD: Final = re.compile(r"\S+")
# No epithet stands further from its name than this, a rank between them.
_MOST_GAP: Final = 40


def mark(text: str, mentions: Sequence[M]) -> list[M]:
    """`mentions`, each person's designation carrying the seniority written onto the name."""
    out = list(mentions)
    for i, person in enumerate(out):
        if person.kind != "person":
            continue
        said = designations.parse(person.designation)
        person, grade = _inside(text, person)
        grade = grade or _after(text, person.end) or _before(text, person.start, said.rank)
        if grade and not said.grade:
            written = designations.render(said._replace(grade=grade))
            person = dataclasses.replace(person, designation=written)  # type: ignore[type-var]
        out[i] = person
    return out


def _inside(text: str, person: M) -> tuple[M, str | None]:
    """`person` with a seniority the name's words took in at either end taken out of it,
    and that seniority."""
    words = person.text.split()
    if len(words) < 3:  # "Chhota Sattar", "Gul Zaman": the word is, or may be, the name's
        return person, None
    first, last = words[0].lower(), words[-1].lower()
    if first in _GRADE:
        kept = person.text[len(words[0]) :].lstrip()
        start, grade = person.end - len(kept), _GRADE[first]
        end = person.end
    elif last in _GRADE and (last not in _SIZE_GRADE or _WALA.match(text, person.end)):
        kept = person.text[: -len(words[-1])].rstrip()
        start, end, grade = person.start, person.start + len(kept), _GRADE[last]
    else:
        return person, None
    key = key_of(fold_phrase(kept))
    if not key:
        return person, None
    trimmed = dataclasses.replace(person, text=kept, key=key, start=start, end=end)  # type: ignore[type-var]
    return trimmed, grade


def _after(text: str, end: int) -> str | None:
    m = _AFTER.match(text, end, min(len(text), end + _MOST_GAP))
    if m is None:
        return None
    return _GRADE[(m.group("g") or m.group("s")).lower()]


def _before(text: str, start: int, rank: str) -> str | None:
    """The seniority written right before the name, or before the name's own rank."""
    words = list(_WORD.finditer(text, max(0, start - _MOST_GAP), start))
    if words and text[words[0].start() - 1 : words[0].start()].strip():
        del words[0]  # cut in the middle by the window
    for gap in range(min(len(words), 4)):
        at = len(words) - 1 - gap
        word = words[at].group().lower()
        if word not in _GRADE:
            continue
        between = text[words[at].end() : start]
        if not gap or (word in _BEFORE_RANK and rank and spells_rank(between, rank)):
            return _GRADE[word]
    return None
