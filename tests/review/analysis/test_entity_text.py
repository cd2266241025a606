"""A text folded once for the extractor: its tokens and the lexicon's hits on them."""

from __future__ import annotations

from review.analysis.entity_text import Doc


def test_a_tokens_hit_of_a_kind_is_its_longest_term_of_that_kind() -> None:
    doc = Doc("DPO Kasur told SHO Rana of Thana Saddar, district Kasur; FIA and ایف آئی اے")
    kinds = {t.kind for found in doc.hits.values() for t in found}
    assert {"rank", "district", "station", "agency"} <= kinds
    for kind in kinds:
        expected = {
            i: next(t for t in found if t.kind == kind)
            for i, found in doc.hits.items()
            if any(t.kind == kind for t in found)
        }
        assert doc.of_kind(kind) == expected
        assert list(doc.of_kind(kind)) == list(expected)  # in the order of the hits
        assert all(doc.hit(i, kind) == expected.get(i) for i in range(len(doc)))
    for found in doc.hits.values():
        assert [t.size for t in found] == sorted((t.size for t in found), reverse=True)
