"""A report that names two police stations sets its man at the one written onto his post.

heldout52.txt, held out to session 21, kept one false link to the end: "Inspector <name>,
SHO of Thana City" of one report, and a Roman Urdu report whose "saddar thana wale
inspector <name>" raided a kiln that "city thane wale" then freed. The second report named
both stations, so its Inspector was set at both and met the City SHO as one man. Two men of
one name and rank at two stations of one district is what that corpus was written to hold
(HELDOUT.md). The station written onto a man's post ("posted at", `homes`) is now where
his report sets him (`links.own_places`), of all the stations it names. These texts are
written for this test; no corpus sentence is in them.
"""

from __future__ import annotations

import pytest

from review.analysis import designations, links
from review.analysis.entities import extract
from tests.review.analysis.person_links import corpus_of, person_evidence

BHALWAL = (
    "Inspector Ghulam Abbas, the SHO of Thana Bhalwal in district Sargodha, sends the runaway"
    " labourers back to the kiln of Haji Nawaz near Khushab."
)


def _station(text: str, key: str = "ghulam abbas") -> str | None:
    (said,) = {e.designation for e in extract(text) if e.kind == "person" and e.key == key}
    return designations.parse(said).station


@pytest.mark.parametrize(
    "text",
    [
        "Inspector Ghulam Abbas of Thana Kot Momin, Sargodha, took the girl.",
        "Thana Kot Momin ka SHO Inspector Ghulam Abbas bhatta malik ka yaar hai. Sargodha.",
        "thana kot momin ke sho ghulam abbas ne paise liye, sargodha",
        "wahan thana kot momin mein inspector ghulam abbas ne paise liye, sargodha",
        "kot momin thana wale inspector ghulam abbas ne chapa mara, sargodha",
        "At Kot Momin police station Inspector Ghulam Abbas took money, district Sargodha.",
        "Ghulam Abbas, SHO Thana Kot Momin, Sargodha, took money.",
        "Inspector Ghulam Abbas, posted at Thana Kot Momin, Sargodha, took money.",
        "We went to Thana Kot Momin, Sargodha, where the SHO Inspector Ghulam Abbas tore it.",
        "thana kot momin sargodha ka sho ghulam abbas paisay leta hai",
        "ضلع سرگودھا، تھانہ کوٹ مومن کے ایس ایچ او انسپکٹر غلام عباس نے پیسے لیے",
        "ضلع سرگودھا، انسپکٹر غلام عباس ایس ایچ او تھانہ کوٹ مومن نے پیسے لیے",
    ],
)
def test_the_station_written_onto_a_post_is_his(text: str) -> None:
    assert _station(text) == "kot momin/sargodha"


@pytest.mark.parametrize(
    "text",
    [
        # A station after a bare name is where he took someone, not his post.
        "Inspector Ghulam Abbas thana kot momin le gaya, sargodha",
        # A man of no rank is posted nowhere.
        "Ghulam Abbas of Thana Kot Momin, Sargodha, is the kiln owner's cousin.",
        # Words between that are not his ranks.
        "Inspector Ghulam Abbas brought him to Thana Kot Momin, Sargodha.",
    ],
)
def test_a_station_near_the_name_is_not_always_his_post(text: str) -> None:
    assert _station(text) is None


def test_a_report_naming_two_stations_sets_its_man_at_his_own() -> None:
    corpus = corpus_of(
        [
            BHALWAL,
            "thana bhalwal walon ne pakra aur thana kot momin ke inspector ghulam abbas ke"
            " hawale kar diya. district sargodha, bhatta khushab mein hai.",
            "kot momin thana wale inspector ghulam abbas ne chapa mara tha lekin bhalwal"
            " thane wale ne chura liya. sargodha",
            "Inspector Ghulam Abbas of Thana Kot Momin, Sargodha, took Rs 20,000 to let the"
            " kiln owner keep the boys. The family first went to Thana Bhalwal.",
        ]
    )
    # Bhalwal's SHO and Kot Momin's Inspector are two men, or one transferred.
    for other in (2, 3, 4):
        assert person_evidence(corpus, 1, other, "ghulam abbas").strength.level == links.WEAK
    # Reports that set him at Kot Momin, each naming Bhalwal too, are of one man.
    assert person_evidence(corpus, 2, 3, "ghulam abbas").strength.level == links.STRONG
    assert person_evidence(corpus, 2, 4, "ghulam abbas").strength.level == links.STRONG


def test_the_post_is_what_a_reviewer_reads() -> None:
    (man,) = [e for e in extract(BHALWAL) if e.kind == "person" and e.key == "ghulam abbas"]
    assert man.designation == "Inspector, posted at bhalwal/sargodha"
    assert designations.render(designations.parse(man.designation)) == man.designation


def test_own_places_keeps_the_districts_and_drops_the_other_stations() -> None:
    where = frozenset(
        {"station:bhalwal/sargodha", "station:kot momin/sargodha", "district:sargodha"}
    )
    posted = ("Inspector, posted at kot momin/sargodha",)
    assert links.own_places(where, posted) == {"station:kot momin/sargodha", "district:sargodha"}
    # An agent's "post" sets nothing; a station the report does not name is no setting.
    assert links.own_places(where, ("Agent, posted at kot momin/sargodha",)) == where
    assert links.own_places(where, ("Inspector, posted at saddar/kasur",)) == where


@pytest.mark.parametrize(
    "text",
    [
        "اگلے دن سٹی تھانے کے ایس ایچ او، جن کا نام بھی انسپکٹر غلام عباس ہے، نے ضمانت دلوا دی۔",
        "city thane ka sho, jis ka naam bhi inspector ghulam abbas hai, ne zamanat dilwai",
    ],
)
def test_whose_name_is_also_says_two_men_bear_it(text: str) -> None:
    """heldout52.txt, read in session 21, said so of its second Inspector, the rank between
    "also" and the name, which "naya sho bhi gul nawaz hai" had not allowed."""
    (said,) = {e.designation for e in extract(text) if e.key == "ghulam abbas"}
    assert designations.parse(said).two


def test_posts_written_onto_names_tell_where_a_name_has_men() -> None:
    """heldout66.txt (development, written blind in session 21 to a brief of reports naming
    two stations): a report naming both stations of two posted men of one name, and
    writing neither onto its man, may mean either. The stations written onto posts in
    reports that name two now count where the name has men (`links.posted_at`)."""
    corpus = corpus_of(
        [
            "ASI Sher Zaman of Thana Darya Khan, Bhakkar, brought the runaway back to the"
            " dera. His brother later went to Thana Kalur Kot, who said it was not their area.",
            "thana kalur kot ke asi sher zaman ne bayan liya aur larki ko wapas bhej diya."
            " baad mein case thana darya khan gaya. bhakkar",
            "We went to Thana Kalur Kot, Bhakkar, and the case was moved to Thana Darya Khan."
            " ASI Sher Zaman wrote nothing in the register.",
        ]
    )
    for a, b in ((1, 2), (1, 3), (2, 3)):
        assert person_evidence(corpus, a, b, "sher zaman").strength.level == links.WEAK


def test_a_namesake_of_the_same_rank_keeps_no_rank() -> None:
    """ "SI X (same naam ka ek SI piplan mein bhi hai, woh alag banda hai)": the other man is
    an SI too, so the SI of the warning's report meets no other report's SI strongly."""
    text = (
        "ASI sher zaman jo hamare thaney mein hai (same naam ka ek ASI kalur kot mein bhi hai,"
        " woh alag banda hai) agent ki gaari nahi rokta. bhakkar"
    )
    (said,) = {e.designation for e in extract(text) if e.key == "sher zaman"}
    assert designations.parse(said) == designations.Designation("", namesake=True)
    other = "ASI Sher Zaman of Thana Kalur Kot, Bhakkar, takes Rs 5,000 a boy."
    assert person_evidence(corpus_of([text, other]), 1, 2, "sher zaman").strength.level == (
        links.WEAK
    )


def test_a_roundup_stays_one_though_it_writes_each_mans_station() -> None:
    """A digest of five stations, each with its SHO, sets each man at his own; it is still
    a roundup, which gathers what other reports said, and joins none of them strongly."""
    roundup = (
        "Where our complaints died in 2023, Sargodha: Thana Bhalwal (SHO Ghulam Abbas), Thana"
        " Kot Momin (SHO Zafar Iqbal), Thana Shahpur (SHO Naveed Akhtar), Thana Sillanwali"
        " (SHO Asif Nawaz) and Thana Sahiwal (SHO Khalid Mehmood)."
    )
    corpus = corpus_of(
        [BHALWAL.replace("Inspector Ghulam Abbas, the SHO", "SHO Ghulam Abbas, the SHO"), roundup]
    )
    (said,) = {e.designation for e in extract(roundup) if e.key == "ghulam abbas"}
    assert designations.parse(said).station == "bhalwal/sargodha"
    evidence = person_evidence(corpus, 1, 2, "ghulam abbas")
    assert evidence.strength.level == links.WEAK
    assert "roundup" in evidence.strength.why
