"""One key for one name's spellings (issue 18: "keyed apart"), never one for two names.

Spellings of one name across Urdu script, Roman Urdu and English, and across the ways
each writes it, key alike (`entity_names.key_of` through `entities.key_for`); a name
written with a title in one report and without it in another links as a short form
(`links.short_form`), weakly unless the evidence says it is one man.
"""

from __future__ import annotations

import pytest

from review.analysis import links
from review.analysis.entities import extract, key_for
from review.analysis.entity_names import _by_vowels, _vowel_pattern, roman_form, sound, urdu_form
from review.workspace.search import normalize


@pytest.mark.parametrize(
    "spellings",
    [
        # a compound's halves joined by a hyphen, apart, or as one word
        ("Abdul Sattar", "Abdul-Sattar", "Abdulsattar", "عبدالستار", "عبد الستار"),
        ("Abdul Ghafoor", "Abdul-Ghafoor", "عبدالغفور"),
        ("Sanaullah", "Sana-ullah", "Sana Ullah", "ثناءاللہ", "ثنا اللہ"),
        # the Arabic article, written apart in Latin letters, joined in Urdu
        ("Zia ul Haq", "Zia-ul-Haq"),
        ("Fazal ur Rehman", "Fazal-ur-Rehman", "فضل الرحمان"),
        ("Abdul Rehman", "Abdur Rehman", "Abd-ur-Rehman", "عبد الرحمان", "عبدالرحمان"),
        ("Shams ud Din", "Shamsuddin", "شمس الدین"),
        ("Thana Baghdad-ul-Jadeed", "تھانہ بغداد الجدید"),
        # Urdu letters that sound alike, hamza, and a word's last letter
        ("ذوالفقار علی", "زوالفقار علی", "Zulfiqar Ali"),
        ("طاہر جاوید", "تاہر جاوید", "Tahir Javed"),
        ("نذیر احمد", "نزیر احمد", "Nazir Ahmed"),
        ("صغراں بی بی", "صغران بی بی", "Sughran Bibi"),
        ("رضوانہ", "رضوانا", "Rizwana"),
        # Roman aspirates, first vowels and a vowel's glide
        ("Ghulam Rasool", "Gulam Rasool", "غلام رسول"),
        ("Ejaz Hussain", "Ijaz Hussain", "Aijaz Hussain", "Aejaz Hussain", "اعجاز حسین"),
        ("Riaz Ahmed", "Riyaz Ahmed", "ریاض احمد"),
        ("Imtiaz Ahmed", "Imtiyaz Ahmed", "امتیاز احمد"),
        ("Fayyaz Hussain", "Fiaz Hussain", "Fayaz Hussain", "فیاض حسین"),
        ("Hassan Jafri", "Hassan Jafry", "حسن جعفری"),  # a last "y" for "i"
        ("Yousaf Gilani", "Yousaf Gilany", "Yousaf Gillani", "یوسف گیلانی"),
        # a compound given name joined in Latin letters, apart in Urdu, or listed as one
        ("Allahbux Jamali", "Allah Bux Jamali", "Allah Bakhsh Jamali", "اللہ بخش جمالی"),
        ("Qadirbux Mirani", "Qadir Bux Mirani", "قادر بخش میرانی"),
        ("Shah Nawaz", "Shahnawaz", "شاہ نواز", "شاہنواز"),
        ("Allah Yar", "Allahyar", "اللہ یار"),
        # two lines of the names list that share a spelling are one name
        ("Javed Iqbal", "Javaid Iqbal", "Jawed Iqbal", "جاوید اقبال"),
        ("Shamoon Gill", "شمعون گل"),  # Urdu writes Gill and Gul alike
        ("Mehr Ali", "Mehar Ali", "مہر علی"),
        # "Mst." (Musammat) before a woman's name, as court papers and FIRs write it
        ("Mst Nasreen Bibi", "Mst. Nasreen Bibi", "Nasreen Bibi", "مسماۃ نسرین بی بی"),
        # "Alhaj" as an honorific, left out: a short form of "Haji Ghulam Nabi Khoso"
        ("Alhaj Ghulam Nabi Khoso", "الحاج غلام نبی کھوسو", "Ghulam Nabi Khoso"),
        # a woman's name in -a the lists lack keys alike in both scripts, and as no man's
        ("Saleema", "سلیمہ"),
        ("Sitara", "ستارہ"),
        # a listed name that begins as "Abdul" does is one name; "Abdul" joined to a short one
        ("Abdullah Khan", "Abdulla Khan", "عبداللہ خان"),
        ("Abdul Haq", "Abdulhaq", "عبدالحق", "عبد الحق"),
        # a woman's honorific before her name or after it: Begum and Bibi keyed after, Mai before
        ("Begum Nasreen", "Nasreen Begum", "بیگم نسرین", "نسرین بیگم"),
        ("Mai Mukhtaran", "Mukhtaran Mai", "مائی مختاراں"),
        ("Bibi Aisha", "Aisha Bibi", "بی بی عائشہ", "عائشہ بی بی"),
        # two Latin words that spell, joined, a name listed as one
        ("Noor Jehan", "Noorjahan", "Noor Jahan", "نور جہاں"),
        # fa'il names with "e" for their last "i", as Arabic spellings write them
        ("Khaled Mehmood", "Khalid Mehmood", "خالد محمود"),
        ("Hamed Raza", "Hamid Raza", "حامد رضا"),
        ("Rashed Ali", "Rashid Ali", "راشد علی"),
        ("Taher Shah", "Tahir Shah", "طاہر شاہ"),
        # "Ahmed", "Akber": no fa'il, "e" is "a"
        ("Akber Ali", "Akbar Ali", "اکبر علی"),
    ],
)
def test_spellings_of_one_name_key_alike(spellings: tuple[str, ...]) -> None:
    kind = "police_station" if spellings[0].startswith("Thana") else "person"
    keys = {key_for(kind, s) for s in spellings}
    assert len(keys) == 1, keys


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Aslam", "Saleem"),
        ("Akram", "Ikram"),
        ("Arshad", "Irshad"),
        ("Umar", "Aamir"),
        ("عمر", "عامر"),
        ("Naveed", "Nadeem"),
        ("Zahid", "Zahida"),
        ("Shahid", "Shahida"),
        ("Muhammad Altaf", "Muhammad Tahir"),  # الطاف keeps its "ال"
        ("محمد الطاف", "محمد طاف"),
        ("احمد", "حامد"),
        ("Zia ul Haq", "Zia Ullah"),
        # consonants alone are no name: a vowel at the end says the woman's from the man's,
        # and a given name from a surname
        ("Saleema", "Saleem"),
        ("سلیمہ", "Saleem"),
        ("ستارہ", "Sattar"),
        ("Sitara", "Sattar"),
        ("Mansha", "Minhas"),
        ("منشا", "Minhas"),
        ("Mian Mansha", "Mian Minhas"),
        # Aijaz is اعجاز (Ejaz), Ayaz is ایاز: two names
        ("Aijaz Ahmed", "Ayaz Ahmed"),
        ("Aijaz Ahmed", "ایاز احمد"),
        # "Abdullah" is no Abdul; "Hamed" (Hamid) no Hammad, "Sajed" (Sajid) no Sajjad
        ("Abdullah", "Abdul"),
        ("Hamed", "Hammad"),
        ("Sajed", "Sajjad"),
        # an open end is its vowel: "Pathana" no Pathani, "Jumman" no Jamna
        ("Pathana", "Pathani"),
        ("پٹھانا", "Pathani"),
        ("Jumman", "Jamna"),
        ("جمن", "جمنا"),
        # the honorific moves, the names stay: two women
        ("Begum Nasreen", "Nasreen Bibi"),
        ("Mai Bashiran", "Bashiran"),
        ("Noor Jehan", "Noor Khan"),
    ],
)
def test_names_that_differ_key_apart(a: str, b: str) -> None:
    assert key_for("person", a) != key_for("person", b)


def test_the_spelling_forms_reduce_what_varies_and_keep_what_does_not() -> None:
    assert roman_form("gulam") == roman_form("ghulam")
    assert roman_form("aijaz") == roman_form("ejaz") == roman_form("ijaz")
    assert roman_form("akram") != roman_form("ikram")  # only "e" and "ai" before a consonant
    assert urdu_form("ذوالفقار") == urdu_form("زوالفقار")
    assert urdu_form("عمر") != urdu_form("امر")  # ain is kept: Umar is not Amar


@pytest.mark.parametrize(
    ("short", "full"),
    [
        ("imran ali shah", "syed imran ali"),  # a Syed's title before, or Shah after
        ("bashir ahmed", "haji bashir ahmed"),  # the title in one report only
        ("manzoor hussain", "chaudhry manzoor hussain"),
        ("chaudhry bhatti", "akram bhatti"),  # a surname, the title left out
    ],
)
def test_a_name_without_its_title_is_a_short_form(short: str, full: str) -> None:
    assert links.short_form(short, full)
    assert not links.short_form(full, short)  # one way only: one link per pair


@pytest.mark.parametrize(
    ("short", "full"),
    [
        ("rana tariq", "malik tariq mehmood"),  # two families' titles: two men
        ("rana tariq mehmood", "malik tariq mehmood"),
        ("chaudhry aslam", "rana aslam"),
        ("haji", "bashir ahmed"),  # a title alone says nothing
        ("bashir ahmed", "haji bashir ahmed khan"),  # no surname, and the title is a start
    ],
)
def test_names_under_other_titles_are_no_short_forms(short: str, full: str) -> None:
    assert not links.short_form(short, full)
    assert not links.short_form(full, short)


def test_a_name_under_alhaj_is_a_short_form_of_it_under_haji() -> None:
    alhaj = key_for("person", "Alhaj Ghulam Nabi Khoso")
    haji = key_for("person", "Haji Ghulam Nabi Khoso")
    assert alhaj is not None
    assert haji is not None
    assert links.short_form(alhaj, haji)


def test_a_given_name_with_a_title_is_the_given_name_of_the_full_name_without_it() -> None:
    assert links.given_name("chaudhry manzoor", "manzoor hussain")
    assert not links.given_name("rana manzoor", "malik manzoor hussain")


def test_muhammad_left_out_on_one_side_is_a_given_name_or_a_short_form() -> None:
    assert links.given_name("chaudhry aslam", "chaudhry muhammad aslam warraich")
    assert links.short_form("chaudhry aslam", "chaudhry muhammad aslam")
    assert not links.short_form("muhammad", "muhammad aslam")  # Muhammad alone is anyone
    assert not links.given_name("rana aslam", "chaudhry muhammad aslam warraich")


@pytest.mark.parametrize(
    ("urdu", "latin"),
    [
        ("اشفاق", "ishfaq"),  # ش ف ق: Ishfaq and Shafique; the alif first and before ق say which
        ("شفیق", "shafiq"),
        ("شاہد", "shahid"),  # s-d: Shahid, Saeed, Syed; its written alif and heh say which
        ("آصف", "asif"),
        ("عدیلہ", "adeela"),  # d-l: Adil, Adeel, Adeela; its last heh is the vowel "a"
    ],
)
def test_an_urdu_word_of_shared_consonants_is_told_by_the_vowels_it_writes(
    urdu: str, latin: str
) -> None:
    word = normalize(urdu)
    assert _by_vowels(word, sound(word)) == latin


@pytest.mark.parametrize(
    "urdu",
    # Urdu writes no short vowel: Arshad or Irshad, Akram or Ikram, Umar or Amir, Saeed or
    # Syed could each be the other in Latin letters, so none is chosen
    ["ارشاد", "اکرم", "اکرام", "عمر", "عامر", "سید", "سعید", "عادل"],
)
def test_an_urdu_word_whose_vowels_fit_two_names_is_neither(urdu: str) -> None:
    word = normalize(urdu)
    assert _by_vowels(word, sound(word)) is None


@pytest.mark.parametrize(
    "spellings",
    [
        ("Thana Civil Lines", "Civil Line PS", "تھانہ سول لائنز", "تھانہ سول لائن"),
        ("Thana Township", "تھانہ ٹاؤن شپ"),  # one word in Latin, two in Urdu
        ("Thana Shahkot", "تھانہ شاہکوٹ"),  # two listed words run together stay together
        ("Thana Saddar", "Thana Sadar", "PS Saddar", "Saddar police station", "تھانہ صدر"),
    ],
)
def test_spellings_of_one_station_key_alike(spellings: tuple[str, ...]) -> None:
    keys = {key_for("police_station", s) for s in spellings}
    assert len(keys) == 1, keys


def test_a_station_s_district_stays_in_its_key() -> None:
    assert key_for("police_station", "Thana Civil Line/Gujranwala") == "civil lines/gujranwala"
    assert key_for("police_station", "Thana Civil Line/Sialkot") != key_for(
        "police_station", "Thana Civil Lines/Gujranwala"
    )


def test_every_urdu_letter_has_a_roman_so_no_word_is_left_without_a_pattern() -> None:
    for word in ("محسن", "عمر", "احمد", "سعید", "چوہدری", "ژالہ"):
        assert _vowel_pattern(normalize(word)) is not None, word
    pattern = _vowel_pattern(normalize("محسن"))
    assert pattern is not None
    assert pattern.fullmatch(roman_form("mohsin"))
    assert not pattern.fullmatch(roman_form("masoon"))


@pytest.mark.parametrize(
    "spellings",
    [
        # the article joined inside one word, in Latin letters or in Urdu
        ("Anis ul Haq", "Anisulhaq", "انیس الحق", "انیس‌الحق"),
        ("Noor ul Haq", "Noorulhaq", "نور الحق", "نورالحق"),
        ("Qamar uz Zaman", "Qamaruz Zaman", "قمر الزمان", "قمرالزمان"),
        ("Lutf ur Rehman", "Lutfur Rehman", "لطف الرحمان"),
        ("Munir ul Hassan", "Munirul Hassan", "منیر الحسن"),
        # a name listed as one word, written apart with its article
        ("Khairunnisa", "Khair un Nisa", "خیرالنساء", "خیر النساء"),
    ],
)
def test_a_name_and_its_article_written_as_one_word_key_as_written_apart(
    spellings: tuple[str, ...],
) -> None:
    keys = {key_for("person", s) for s in spellings}
    assert len(keys) == 1, keys


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Munirul Hassan", "Zarwali Hassan"),  # its consonants are another listed name's
        ("Anisulhaq", "Anisullah"),  # the article and Haq, or a compound of Allah
        ("Nasrullah Khan", "Nasr Khan"),  # "ullah" is a compound, never the article and "lah"
        ("Bilal Ahmed", "Bil Ahmed"),  # a name ending in "al" is no article
        ("جلال احمد", "ج احمد"),
    ],
)
def test_a_word_that_only_looks_joined_is_not_split(a: str, b: str) -> None:
    assert key_for("person", a) != key_for("person", b)


def test_a_short_word_of_one_consonant_keys_alike_in_both_scripts() -> None:
    # "Haq" and "حق" share nothing but their one consonant; a letter alone keeps itself
    assert key_for("person", "Ehsan ul Haq") == key_for("person", "احسان الحق")
    assert key_for("person", "Ehsan ul Haq") != key_for("person", "Ehsan Ullah")


@pytest.mark.parametrize(
    ("name", "station"),
    [
        ("آدم خان", "تھانہ ٹنڈو آدم"),  # Adam, and Tando Adam's second word
        ("Adam Khan", "Thana Tando Adam"),
        ("جام ثاقب", "تھانہ جام پور"),  # Jam, a Sindhi title, and the first half of Jampur
    ],
)
def test_a_word_of_a_station_s_longer_name_is_no_station_in_a_person_s_key(
    name: str, station: str
) -> None:
    person, place = key_for("person", name), key_for("police_station", station)
    assert person is not None
    assert place is not None
    assert place.partition("/")[0] not in person


def test_a_title_a_station_s_name_begins_with_keys_alike_in_both_scripts() -> None:
    assert key_for("person", "Jam Saqib") == key_for("person", "جام ثاقب")
    # the station keeps its name in either script
    assert key_for("police_station", "Thana Jampur") == key_for("police_station", "تھانہ جام پور")


def test_an_urdu_word_writing_a_long_vowel_its_consonants_namesake_lacks_is_not_that_name() -> None:
    # "اسلام" (Islam) and "اسلم" (Aslam) share s-l-m, and Latin "Aslam" fits either's vowels
    assert key_for("person", "محمد اسلام") != key_for("person", "محمد اسلم")
    assert key_for("person", "محمد اسلام") == key_for("person", "Muhammad Islam")
    word = normalize("اسلام")
    assert _by_vowels(word, sound(word)) is None


@pytest.mark.parametrize(
    ("text", "name", "like"),
    [
        # the Arabic article of a Latin name written apart
        ("Yesterday SHO Zia ul Haq took the money.", "Zia ul Haq", "ضیاء الحق"),
        ("Inspector Shafiq ur Rehman refused.", "Shafiq ur Rehman", "شفیق الرحمان"),
        ("The agent Qamar uz Zaman sold the tickets.", "Qamar uz Zaman", "قمر الزمان"),
        ("kal munshi inam ul haq ne paise liye.", "inam ul haq", "انعام الحق"),
        # an Urdu compound written apart, its first half one the lists lack
        ("ہمارے گاؤں کے نصر اللہ خان نے پیسے لیے۔", "نصر اللہ خان", "Nasrullah Khan"),
        ("منشی عطاء اللہ نے کہا۔", "عطاء اللہ", "Ataullah"),
        ("ایس ایچ او سیف اللہ نے کہا۔", "سیف اللہ", "Saifullah"),
        ("ہمارے گاؤں کے امان اللہ نے کہا۔", "امان اللہ", "Amanullah"),
        # four words after a rank, in Urdu as in English: a title, two names and a surname
        (
            "ایس ایچ او سید ذوالفقار علی شاہ نے کہا۔",
            "سید ذوالفقار علی شاہ",
            "Syed Zulfiqar Ali Shah",
        ),
        (
            "ایجنٹ رانا محمد طارق محمود نے پیسے لیے۔",
            "رانا محمد طارق محمود",
            "Rana Muhammad Tariq Mehmood",
        ),
    ],
)
def test_a_name_written_in_parts_is_one_name_keyed_as_written_whole(
    text: str, name: str, like: str
) -> None:
    people = [e for e in extract(text) if e.kind == "person"]
    assert [e.text for e in people] == [name]
    assert people[0].key == key_for("person", like)


@pytest.mark.parametrize(
    "text",
    [
        "باقی اللہ کی مرضی۔",  # "the rest is God's will"
        "ان شاء اللہ ہم کل جائیں گے۔",
        "سبحان اللہ، کیا بات ہے۔",
        "اس نے کہا فی امان اللہ اور چلا گیا۔",  # a farewell
        "رسول اللہ نے فرمایا کہ ظلم نہ کرو۔",  # the Prophet
        "rasool allah ne farmaya zulm na karo.",
    ],
)
def test_a_word_before_allah_in_a_phrase_of_faith_is_no_name(text: str) -> None:
    assert [e.text for e in extract(text) if e.kind == "person"] == []


@pytest.mark.parametrize(
    ("text", "like"),
    [
        ("Everyone there knows Babu Shaukat Ali.", "شوکت علی"),
        ("The families trusted Master Ghulam Nabi, a teacher.", "غلام نبی"),
        ("Lala Dad Karim took the money.", "Dad Karim"),
    ],
)
def test_what_a_man_is_called_by_is_no_part_of_his_full_name_s_key(text: str, like: str) -> None:
    (person,) = [e for e in extract(text) if e.kind == "person"]
    assert person.key == key_for("person", like)


def test_what_a_man_is_called_by_stays_in_the_key_of_one_name() -> None:
    (person,) = [e for e in extract("Everyone calls him Master Saleem.") if e.kind == "person"]
    assert person.key != key_for("person", "Saleem")


@pytest.mark.parametrize(
    ("text", "like"),
    [
        ("Gulam Qadir Mahar took the money.", "غلام قادر مہر"),
        ("Peer Bux Jatoi took the money.", "پیر بخش جتوئی"),
        ("The agent Shahid Mehmood, called Shahid, took the money.", "Shahid Mahmood"),
    ],
)
def test_a_listed_name_spelt_otherwise_begins_the_name(text: str, like: str) -> None:
    assert next(e.key for e in extract(text) if e.kind == "person") == key_for("person", like)


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("اس کی بیوی نسیم بی بی نو سال سے کام کر رہی ہے۔", "نسیم بی بی"),  # "for nine years"
        ("زبیدہ خاتون چار سال سے یہاں ہے۔", "زبیدہ خاتون"),
    ],
)
def test_a_title_after_a_woman_s_name_ends_it(text: str, name: str) -> None:
    assert [e.text for e in extract(text) if e.kind == "person"] == [name]
