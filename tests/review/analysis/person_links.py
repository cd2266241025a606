"""How the review tool links two texts on the one person's name they share."""

from __future__ import annotations

from review.analysis import links
from review.analysis.entities import Entity, extract


def person_link(a: str, b: str) -> tuple[str, links.Strength]:
    """The person key both texts share, and how strong a link on it is between them."""
    found_a, found_b = extract(a), extract(b)
    shared = {e.key for e in found_a if e.kind == "person"} & {
        e.key for e in found_b if e.kind == "person"
    }
    assert len(shared) == 1, shared
    key = shared.pop()

    def roles(found: list[Entity]) -> set[str]:
        return {e.designation for e in found if e.key == key and e.designation}

    strength = links.pair_strength(
        "person",
        links.strength("person", key),
        links.places((e.kind, e.key) for e in found_a),
        links.places((e.kind, e.key) for e in found_b),
        roles(found_a),
        roles(found_b),
        key=key,
    )
    return key, strength
