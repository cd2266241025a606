"""A news report pasted into a report is the paper's words: it makes no two sources one writer.

The attack (session 41's red team): two sources, each pasting one paragraph of Dawn's report
of a raid before or after their own few lines, shared its words and were one writer, surely,
by near-duplicate text (65 % alike): two independent witnesses counted as one. A paragraph
after an outlet's word that it reported ("Dawn reported on 3 March: ...", "According to a
news report: ...", "اخبار میں خبر چھپی: ...") is read as a forwarded message is
(`forwards.forwarded`): to its line's end, it counts towards no writer's words.
"""

from __future__ import annotations

import pytest

from review.analysis import forwards
from tests.review.analysis.person_links import corpus_of

NEWS = (
    " Police in Kasur have registered a case against a kiln owner after a raid freed twenty-two"
    " bonded labourers, including nine children, who said they had been kept for years against"
    " a debt that never shrank. The district police officer said an inquiry into the local"
    " police station's role had been ordered and that officials found negligent would face"
    " action.\n"
)
URDU_NEWS = (
    " قصور میں پولیس نے بھٹہ مالک کے خلاف مقدمہ درج کر لیا، چھاپے میں بائیس مزدور آزاد کرائے گئے جن"
    " میں نو بچے تھے، اور ضلعی پولیس افسر نے کہا کہ مقامی تھانے کے کردار کی انکوائری کا حکم دے دیا"
    " گیا ہے اور غفلت برتنے والے افسران کے خلاف کارروائی ہو گی۔\n"
)
OWN = (
    "My brother works at the kiln near Pattoki.\n{news}But the SHO still takes money from the"
    " owner every month.",
    "Hum Kasur ke rehne wale hain.\n{news}Lekin hamari beti abhi tak wapas nahi aayi.",
)


@pytest.mark.parametrize(
    "news",
    [
        f"Dawn reported on 3 March:{NEWS}",
        f"According to a news report:{NEWS}",
        f"The Express Tribune wrote:{NEWS}",
        f"Akhbar mein khabar chhapi:{NEWS}",
        f"اخبار میں خبر چھپی:{URDU_NEWS}",
    ],
)
def test_two_sources_pasting_one_news_report_are_two_writers(news: str) -> None:
    corpus = corpus_of([OWN[0].format(news=news), OWN[1].format(news=news)])
    assert corpus.source_group(1) != corpus.source_group(2), corpus.related(1).same_source


def test_a_paragraph_two_sources_share_with_no_outlets_word_still_links_them() -> None:
    corpus = corpus_of([OWN[0].format(news=NEWS[1:]), OWN[1].format(news=NEWS[1:])])
    assert corpus.source_group(1) == corpus.source_group(2)


@pytest.mark.parametrize(
    "text",
    [
        "The SHO reported: nothing was found at the kiln.\n",
        "I told the reporter: the SHO took Rs 50,000 from us.\n",
        "Dawn reported it, but the SHO still takes money.\n",
    ],
)
def test_a_report_of_no_outlet_is_no_pasted_news(text: str) -> None:
    assert forwards.forwarded(text) == []
