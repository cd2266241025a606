"""What the development sets of session 16 (heldout50.txt, interior Sindh; heldout51.txt,
Karachi's west, centre and north) labelled and the extractor missed or keyed apart.

- Manghopir is Karachi's: "thana Manghopir" was keyed with the home districts of the boys
  its report names (Jacobabad, Sukkur), one key for each report. So is Mominabad, which
  "mominabad thana" missed and "PS Mominabad" keyed as Gujranwala's Eminabad.
- Qubo Saeed Khan is a town of Qambar-Shahdadkot, and سہون (without its ی) is Sehwan.
- A plate after its vehicle and "is"/"was": "The madrassa van is KC-5519".
- heldout53.txt and heldout54.txt (southern Punjab; Mardan to Lower Dir): ملاکنڈ for
  Malakand, Talash (Lower Dir), Mardan's Sheikh Maltoon station; Dir's plates ("coaster DIR
  1190"), which "DIR" as money had kept from being plates even beside a vehicle; and a
  trolley (ٹرالی) as a vehicle.
- "Korangi Industrial Area police station" was keyed by its sounds with Korangi in its name,
  and "Industrial Area police station in Korangi" apart from it (heldout41.txt, 43.txt).
"""

from __future__ import annotations

import pytest

from review.analysis.entities import extract


def _keys(text: str, kind: str) -> list[str]:
    return [e.key for e in extract(text) if e.kind == kind]


@pytest.mark.parametrize(
    "text",
    [
        "Boys from Jacobabad are kept at a madrassa. The father went to thana Manghopir.",
        "jacobabad ke larke. baap manghopir thana gaya to kisi ne nahi suna.",
        "جیکب آباد کے لڑکے مدرسے میں ہیں۔ باپ تھانہ منگھوپیر گیا۔",
    ],
)
def test_manghopir_is_karachis(text: str) -> None:
    (station,) = _keys(text, "police_station")
    assert station.endswith("/karachi"), station


@pytest.mark.parametrize(
    "text",
    [
        "shahnaz baji ka ghar mominabad thana ke pichay hai.",
        "The SHO of Mominabad police station in Karachi took money.",
        "مومن آباد تھانے کا اے ایس آئی پیسے لیتا ہے۔",
    ],
)
def test_mominabad_is_karachis_not_eminabad(text: str) -> None:
    assert _keys(text, "police_station") == ["mominabad/karachi"]


@pytest.mark.parametrize(
    ("text", "town"),
    [
        ("In the villages around Qubo Saeed Khan a broker buys haris.", "qubo saeed khan"),
        ("قبو سعید خان کا دلال ہاریوں کو بیچتا ہے۔", "qubo saeed khan"),
        ("میرا بیٹا اس کے ساتھ سہون گیا تھا۔", "sehwan"),
        ("ملاکنڈ کے تھانہ بٹ خیلہ کے ایس ایچ او نے پیسے لیے۔", "malakand"),
        ("لوئر دیر کے تالاش کے رہائشی بخت منیر کا بیٹا", "talash"),
    ],
)
def test_towns_of_interior_sindh(text: str, town: str) -> None:
    assert town in _keys(text, "district")


@pytest.mark.parametrize(
    ("text", "plate"),
    [
        ("The madrassa van is KC-5519; the Qari drives it.", "KC5519"),
        ("uski gari ka number tha LE-2201 aur wo raat ko aati hai.", "LE2201"),
        ("timergara adda pe coaster DIR 1190 khari hoti hai", "DIR1190"),
        ("He drives the coaster DIR-1190 to Quetta.", "DIR1190"),
        ("بچوں کو ٹرالی ایل ڈی این ۶۱۲۰ میں دوسرے بھٹے پر لے گئے۔", "LDN6120"),
    ],
)
def test_a_plate_after_its_vehicle_and_is(text: str, plate: str) -> None:
    assert _keys(text, "vehicle") == [plate]


@pytest.mark.parametrize(
    "text",
    ["The fare is RS 5000 a trip.", "the car was TK 300 a day", "He paid DIR 500 in Dubai."],
)
def test_money_after_is_is_still_no_plate(text: str) -> None:
    assert _keys(text, "vehicle") == []


@pytest.mark.parametrize(
    "text",
    [
        "bhai gul zaman ASI sheikh maltoon thana wala har jumay ko paise leta hai",
        "The SHO of Sheikh Maltoon Town police station sent the boys back.",
    ],
)
def test_sheikh_maltoon_is_mardans(text: str) -> None:
    assert _keys(text, "police_station") == ["sheikh maltoon/mardan"]


@pytest.mark.parametrize(
    "text",
    [
        "The SHO of Korangi Industrial Area police station took money.",
        "The SHO of Industrial Area police station in Korangi took money.",
        "korangi industrial area thana ka sho paise leta hai",
        "کورنگی انڈسٹریل ایریا تھانے کا ایس ایچ او پیسے لیتا ہے",
    ],
)
def test_an_industrial_area_after_its_district_is_its_station(text: str) -> None:
    assert _keys(text, "police_station") == ["industrial area/korangi"]
