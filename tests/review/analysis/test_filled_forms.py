"""Two families filling in one printed form are two writers, and its printed words link no one.

The attack (session 39): a legal-aid NGO hands families a printed complaint form ("Name of
victim: ___ Police station: ___"), and they type it into their reports with their answers.
The form's printed words gave any two such reports dozens of rare phrases in common (49
for the form below), and they were grouped as one writer, surely: two families counted as
one voice, and to a reviewer their reports looked like one writer's campaign. Its printed
heading, an advocate's name and helpline, linked every family's report to every other's
strongly. Only what each family wrote in the blanks is theirs: it alone counts towards
their words and their entities.
"""

from __future__ import annotations

from review.analysis import copies, forms, links, records
from review.casework.reports import Content
from tests.review.analysis.person_links import corpus_of

FORM = (
    "Lawyers for Human Rights and Legal Aid, Advocate Zia Awan, helpline 0321-4455667\n"
    "COMPLAINT FORM (fill in every blank)\n"
    "Name of victim: {victim}\n"
    "Father's name of victim: {father}\n"
    "Age of victim at the time of the incident: {age}\n"
    "Name of the police station where the complaint was made: {station}\n"
    "Name and rank of the police officer who took money: {officer}\n"
    "Amount of money taken by the police officer: {amount}\n"
    "Details of the incident in your own words: {details}\n"
    "Signature or thumb impression of the complainant: {signed}"
)
FIRST = {
    "victim": "Ali Raza",
    "father": "Ghulam Nabi",
    "age": "14",
    "station": "Thana Saddar Kasur",
    "officer": "ASI Rafiq Ahmed",
    "amount": "Rs 30,000",
    "details": "He was taken from the kiln at night by two men on a motorcycle.",
    "signed": "Nasreen",
}
SECOND = {
    "victim": "Sana Bibi",
    "father": "Muhammad Yousaf",
    "age": "16",
    "station": "Thana City Mardan",
    "officer": "SHO Gul Zaman",
    "amount": "Rs 50,000",
    "details": "Hamari beti ko agent le gaya aur police ne FIR nahi kati.",
    "signed": "Yousaf",
}
URDU_FORM = (
    "انسانی حقوق لیگل ایڈ، ایڈووکیٹ ضیا اعوان، ہیلپ لائن 0321-4455667\n"
    "متاثرہ شخص کا نام: {victim}\n"
    "والد کا نام: {father}\n"
    "تھانے کا نام جہاں درخواست دی گئی: {station}\n"
    "پیسے لینے والے پولیس افسر کا نام اور عہدہ: {officer}\n"
    "واقعہ کی تفصیل اپنے الفاظ میں: {details}"
)


def test_two_families_filling_one_form_are_two_writers() -> None:
    corpus = corpus_of([FORM.format(**FIRST), FORM.format(**SECOND)])
    assert corpus.source_group(1) != corpus.source_group(2), corpus.related(1).same_source


def test_two_families_filling_one_urdu_form_are_two_writers() -> None:
    corpus = corpus_of(
        [
            URDU_FORM.format(
                victim="علی رضا",
                father="غلام نبی",
                station="تھانہ صدر قصور",
                officer="اے ایس آئی رفیق احمد",
                details="وہ رات کو بھٹے سے اٹھایا گیا، دو آدمی موٹر سائیکل پر تھے۔",
            ),
            URDU_FORM.format(
                victim="ثنا بی بی",
                father="محمد یوسف",
                station="تھانہ سٹی مردان",
                officer="ایس ایچ او گل زمان",
                details="ہماری بیٹی کو ایجنٹ لے گیا اور پولیس نے ایف آئی آر درج نہیں کی۔",
            ),
        ]
    )
    assert corpus.source_group(1) != corpus.source_group(2), corpus.related(1).same_source


def test_the_forms_printed_heading_links_no_two_families() -> None:
    corpus = corpus_of([FORM.format(**FIRST), FORM.format(**SECOND)])
    found = corpus.related(1).links.get(2)
    assert found is None or not found.evidence, found
    assert corpus.related(1).corroborating == 0


def test_a_name_in_a_blank_ends_at_its_line() -> None:
    # Read as a record reads it: before, "Ghulam Nabi" took the next label's "Age" into his
    # key ("ghulam nabi ~g"), and "Rafiq Ahmed" the next one's "Amount".
    reading = records.read(Content(message=FORM.format(**FIRST)), copies.WordHashes())
    found = {(kind, key) for kind, key, _texts, _designations in reading.found}
    assert ("person", "ghulam nabi") in found, found
    assert ("person", "rafiq ahmed") in found, found


def test_what_two_families_wrote_in_the_blanks_still_links_them() -> None:
    # The form is no shield either: the same officer at the same station, written in the
    # blanks by two families, is a strong link, and so is a paragraph one author reused.
    second = {**SECOND, "station": "Thana Saddar Kasur", "officer": "ASI Rafiq Ahmed"}
    corpus = corpus_of([FORM.format(**FIRST), FORM.format(**second)])
    (person,) = [e for e in corpus.related(1).links[2].evidence if e.kind == "person"]
    assert person.key == "rafiq ahmed"
    assert person.strength.level == links.STRONG
    assert corpus.source_group(1) != corpus.source_group(2)
    reused = (
        "The munshi locked the boys in the shed behind the kiln every night, and each"
        " morning the ASI's motorcycle stood at the gate while the owner counted the money"
        " out to him in the small office beside the chimney."
    )
    corpus = corpus_of(
        [FORM.format(**{**FIRST, "details": reused}), FORM.format(**{**second, "details": reused})]
    )
    assert corpus.source_group(1) == corpus.source_group(2)


def test_one_family_sending_its_form_again_is_one_writer() -> None:
    corpus = corpus_of([FORM.format(**FIRST), FORM.format(**FIRST)])
    assert corpus.source_group(1) == corpus.source_group(2)
    assert corpus.near[1][2] >= copies.NEAR_DUPLICATE


def test_a_report_of_a_few_labelled_lines_is_no_form() -> None:
    text = "Note: the SHO took money.\nUpdate: he came again on Friday."
    assert forms.printed(text) == []


# A form whose printed footer, not its heading, names the NGO: its confidentiality line,
# its office and helpline, its disclaimer (left by session 39, which dropped only labels and
# heading).
FOOTER = (
    "\n\nThis form is confidential: Lawyers for Human Rights and Legal Aid shares it with no"
    " one without the complainant's consent.\n"
    "Head office: 14 Fane Road, Lahore. Helpline 0321-4455667, 9 am to 5 pm, Monday to"
    " Saturday.\n"
    "Disclaimer: free legal advice is given on what the complainant states; the organisation"
    " is not responsible for its truth."
)
FOOTED_FORM = FORM.split("\n", 1)[1] + FOOTER
URDU_FOOTER = (
    "\n\nیہ فارم خفیہ ہے، آپ کی اجازت کے بغیر کسی کو نہیں دیا جائے گا۔\n"  # noqa: RUF001
    "ہیڈ آفس: 14 فین روڈ لاہور، ہیلپ لائن 0321-4455667، صبح 9 سے شام 5 بجے تک۔\n"
    "دستبرداری: مفت قانونی مشورہ شکایت کنندہ کے بیان پر دیا جاتا ہے۔"
)


def test_two_families_filling_one_form_with_a_footer_are_two_writers() -> None:
    corpus = corpus_of([FOOTED_FORM.format(**FIRST), FOOTED_FORM.format(**SECOND)])
    assert corpus.source_group(1) != corpus.source_group(2), corpus.related(1).same_source


def test_the_forms_footer_links_no_two_families() -> None:
    corpus = corpus_of([FOOTED_FORM.format(**FIRST), FOOTED_FORM.format(**SECOND)])
    found = corpus.related(1).links.get(2)
    assert found is None or not any(e.kind == "phone" for e in found.evidence), found
    assert corpus.related(1).corroborating == 0


def test_an_urdu_forms_footer_links_no_two_families() -> None:
    form = URDU_FORM.split("\n", 1)[1] + URDU_FOOTER
    first = {
        "victim": "علی رضا",
        "father": "غلام نبی",
        "station": "تھانہ صدر قصور",
        "officer": "اے ایس آئی رفیق احمد",
        "details": "وہ رات کو بھٹے سے اٹھایا گیا، دو آدمی موٹر سائیکل پر تھے۔",
    }
    second = {
        "victim": "ثنا بی بی",
        "father": "محمد یوسف",
        "station": "تھانہ سٹی مردان",
        "officer": "ایس ایچ او گل زمان",
        "details": "ہماری بیٹی کو ایجنٹ لے گیا اور پولیس نے ایف آئی آر درج نہیں کی۔",
    }
    corpus = corpus_of([form.format(**first), form.format(**second)])
    found = corpus.related(1).links.get(2)
    assert found is None or not any(e.kind == "phone" for e in found.evidence), found
    assert corpus.source_group(1) != corpus.source_group(2), corpus.related(1).same_source


def test_what_a_family_wrote_in_the_last_blank_is_no_footer() -> None:
    # The last blank is the family's, whatever words it holds ("helpline", "office"), and
    # so is a line of their own after the footer.
    details = "We rang the helpline at the DPO office; ASI Rafiq Ahmed took Rs 30,000."
    text = FOOTED_FORM.format(**{**FIRST, "details": details, "signed": "Nasreen, 0300-7654321"})
    reading = records.read(Content(message=text + "\nPlease help us."), copies.WordHashes())
    found = {(kind, key) for kind, key, _texts, _designations in reading.found}
    assert ("person", "rafiq ahmed") in found, found
    assert ("phone", "+923007654321") in found, found
    assert ("phone", "+923214455667") not in found, found
    kept = forms.blank(text, forms.printed(text))
    assert details in kept
    assert "Nasreen" in kept
    for printed in ("confidential", "Disclaimer", "Fane Road"):
        assert printed not in kept


def test_a_question_about_an_office_is_no_footer() -> None:
    text = (
        "Name of victim: Ali Raza\nFather's name: Ghulam Nabi\n"
        "Address of the office where you complained: DPO office Kasur, ASI Rafiq Ahmed\n"
        "Helpline: 0321-4455667"
    )
    kept = forms.blank(text, forms.printed(text))
    assert "DPO office Kasur, ASI Rafiq Ahmed" in kept
    assert "0321-4455667" not in kept


# Left by session 40: a footer with no word only a printer writes ("Please attach a copy of
# the FIR ...") was read as the families' own words, and two families who typed it were one
# writer, surely, by near-duplicate text. One report cannot tell it from a family's last
# paragraph; the archive can: a line after a form's last blank that forms of two sources
# hold word for word is print (`forms.printed_tails`).
PLAIN_FOOTER = (
    "\n\nPlease attach a copy of the FIR, the CNIC of the complainant and any medical report"
    " to this complaint before you send it.\n"
    "Submit the filled complaint at our Lahore centre between nine and five on working days,"
    " and keep a copy for yourself.\n"
    "We will call you back within seven days of receiving your complaint, on the number you"
    " give us."
)
PLAIN_FOOTED = FORM.split("\n", 1)[1] + PLAIN_FOOTER


def test_two_families_typing_a_footer_with_no_printers_word_are_two_writers() -> None:
    corpus = corpus_of([PLAIN_FOOTED.format(**FIRST), PLAIN_FOOTED.format(**SECOND)])
    assert corpus.source_group(1) != corpus.source_group(2), corpus.related(1).same_source


def test_one_family_sending_its_plainly_footed_form_again_is_one_writer() -> None:
    corpus = corpus_of([PLAIN_FOOTED.format(**FIRST), PLAIN_FOOTED.format(**FIRST)])
    assert corpus.source_group(1) == corpus.source_group(2)
    assert corpus.near[1][2] >= copies.NEAR_DUPLICATE


def test_a_paragraph_two_reports_share_outside_a_form_still_links_them() -> None:
    # no form: what follows no blank is a writer's own, shared or not
    shared = (
        "The munshi kept the boy in the lock-up for three nights and told his mother to"
        " bring the money before the Friday prayer or never see him again."
    )
    corpus = corpus_of(
        [
            f"My son was taken from the kiln at night.\n{shared}",
            f"Hamari beti ko agent le gaya aur police ne kuch nahi kiya.\n{shared}",
        ]
    )
    assert corpus.source_group(1) == corpus.source_group(2)


def test_a_records_lines_after_the_last_blank_are_kept_as_hashes_only() -> None:
    text = PLAIN_FOOTED.format(**FIRST)
    record = records.Record()
    record.merge([Content(message=text)])
    assert len(record.tails) == 3
    again = records.Record.decode(record.encode())
    assert again.tails == record.tails
    assert "attach" not in record.encode().decode()
