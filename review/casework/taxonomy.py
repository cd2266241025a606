"""One name for each agency and place, whichever way the source or a reviewer wrote it.

The source picks an agency and a province from the server's taxonomy
(app/taxonomy.py) and writes a district as free text. The offline tool must not
depend on the server's package, so the taxonomy's terms are copied to data/taxonomy.txt, and a test
fails when the copies disagree. A triage field holds a term's English label when
the text names a term (by its code, English or Urdu label), and otherwise the
text as written; filters also match a district by the gazetteer's canonical
name, so کراچی and Karachi are one district.
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import Final

from review.analysis.entities import canonical_name
from review.workspace.search import normalize

# The triage fields a source's answers fill, and the taxonomy groups each may name.
SOURCE_FIELDS: Final = ("agency", "district")
_GROUPS: Final = {"agency": ("agency",), "district": ("province",)}


@functools.cache
def terms() -> dict[str, list[tuple[str, str, str]]]:
    """The taxonomy's terms by group: (code, English label, Urdu label)."""
    text = resources.files("review").joinpath("data", "taxonomy.txt").read_text("utf-8")
    out: dict[str, list[tuple[str, str, str]]] = {}
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            group, code, english, urdu = (part.strip() for part in line.split("|"))
            out.setdefault(group, []).append((code, english, urdu))
    return out


@functools.cache
def _spellings() -> dict[str, dict[str, str]]:
    """Each group's spellings (code, English and Urdu labels, folded) to its English label."""
    return {
        group: {
            normalize(s): english for code, english, urdu in found for s in (code, english, urdu)
        }
        for group, found in terms().items()
    }


def canonical(field: str, text: str) -> str:
    """The name a triage field keeps for `text`: a taxonomy term's English label, or the text."""
    text = " ".join(text.split())
    for group in _GROUPS.get(field, ()):
        if (label := _spellings().get(group, {}).get(normalize(text))) is not None:
            return label
    return text


def _key(field: str, text: str) -> str:
    """What a filter compares: the canonical name, a known district by the gazetteer's name."""
    name = canonical(field, text)
    if field == "district":
        name = canonical_name("district", name) or name
    return normalize(name)


def same(field: str, wanted: str | None, value: str | None) -> bool:
    """Say whether a field's value names what a filter asks for (None asks for anything)."""
    if wanted is None:
        return True
    if value is None:
        return False
    return _key(field, wanted) == _key(field, value)
