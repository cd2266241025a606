"""How the review tool links two texts on the one key they share (a name, a station)."""

from __future__ import annotations

import datetime as dt

from review.analysis import links, records
from review.analysis.corpus import Corpus, ReportFacts
from review.analysis.entities import Entity, extract
from review.casework.reports import Content


def person_link(a: str, b: str, key: str | None = None) -> tuple[str, links.Strength]:
    """The person key both texts share (`key`, where they share more than one), and how
    strong a link on it is between them."""
    return shared_link(a, b, "person", key)


def shared_link(a: str, b: str, kind: str, key: str | None = None) -> tuple[str, links.Strength]:
    """The one key of `kind` both texts share (or `key`, one of those they share), and how
    strong a link on it is between them."""
    found_a, found_b = extract(a), extract(b)
    shared = {e.key for e in found_a if e.kind == kind} & {e.key for e in found_b if e.kind == kind}
    if key is not None:
        assert key in shared, shared
        shared = {key}
    assert len(shared) == 1, shared
    (key,) = shared

    def roles(found: list[Entity]) -> set[str]:
        return {e.designation for e in found if e.key == key and e.designation}

    strength = links.pair_strength(
        kind,
        links.strength(kind, key),
        links.places(links.setting(e.kind, e.key, (e.designation,)) for e in found_a),
        links.places(links.setting(e.kind, e.key, (e.designation,)) for e in found_b),
        roles(found_a),
        roles(found_b),
        key=key,
    )
    return key, strength


def people(
    texts: dict[int, str],
) -> tuple[dict[int, list[links.Named]], dict[int, frozenset[str]]]:
    """What the review tool keeps of each report: its people (key and ranks), its places."""
    named, where = {}, {}
    for num, text in texts.items():
        found = extract(text)
        roles: dict[str, set[str]] = {}
        for e in found:
            if e.kind == "person":
                roles.setdefault(e.key, set()).update([e.designation] if e.designation else [])
        written = {k: tuple(e.text for e in found if e.key == k) for k in roles}
        named[num] = [links.Named(k, tuple(sorted(r)), written[k]) for k, r in roles.items()]
        where[num] = links.places(links.setting(e.kind, e.key, (e.designation,)) for e in found)
    return named, where


def corpus_of(texts: list[str]) -> Corpus:
    """A workspace's corpus of one report a text, numbered from 1, a day apart."""
    facts = {}
    for num, text in enumerate(texts, start=1):
        record = records.Record()
        record.merge([Content(message=text)])
        facts[num] = ReportFacts(num, f"source {num}", dt.date(2024, 3, num), record)
    return Corpus(facts)


def person_evidence(corpus: Corpus, num: int, other: int, key: str) -> links.Evidence:
    """The one piece of evidence on person `key` that links report `num` to `other`."""
    (evidence,) = [
        e for e in corpus.related(num).links[other].evidence if e.kind == "person" and e.key == key
    ]
    return evidence


def assert_joins_neither(
    corpus: Corpus, num: int, others: tuple[int, ...], key: str, why: str
) -> None:
    """Report `num` links to none of `others` strongly on person `key`, for reason `why`,
    and counts no corroboration."""
    for other in others:
        evidence = person_evidence(corpus, num, other, key)
        assert evidence.strength.level == links.WEAK
        assert why in evidence.strength.why
        assert not evidence.counts
    assert corpus.related(num).corroborating == 0


def person_keys(text: str) -> set[str]:
    """The keys of the people a text names."""
    return {e.key for e in extract(text) if e.kind == "person"}


def assert_two_people(a: str, b: str) -> None:
    """Two texts, each naming someone, share no person's key and so no link on a person."""
    ka, kb = person_keys(a), person_keys(b)
    assert ka, a
    assert kb, b
    assert ka.isdisjoint(kb), f"{a!r} and {b!r} share the key {ka & kb}"
    linked = corpus_of([a, b]).related(1).links.get(2)
    assert linked is None or not [e for e in linked.evidence if e.kind == "person"], linked
