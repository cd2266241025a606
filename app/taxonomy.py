"""The seed taxonomy for the submission form's optional fields, in English and Urdu.

Complicity types follow the offences and aggravations of Pakistan's Prevention of
Trafficking in Persons Act 2018 and Prevention of Smuggling of Migrants Act 2018
(both single out public servants), and bonded labour. Administrators edit it.
"""

from __future__ import annotations

from typing import Final

GROUPS: Final = ("agency", "province", "when", "complicity")

SEED: Final[dict[str, list[tuple[str, str, str]]]] = {
    "agency": [
        ("police-punjab", "Punjab Police", "پنجاب پولیس"),
        ("police-sindh", "Sindh Police", "سندھ پولیس"),
        ("police-kp", "Khyber Pakhtunkhwa Police", "خیبر پختونخوا پولیس"),
        ("police-balochistan", "Balochistan Police", "بلوچستان پولیس"),
        ("police-islamabad", "Islamabad Police", "اسلام آباد پولیس"),
        ("police-gb", "Gilgit-Baltistan Police", "گلگت بلتستان پولیس"),
        ("police-ajk", "Azad Kashmir Police", "آزاد کشمیر پولیس"),
        ("levies", "Levies", "لیویز"),
        ("fia", "Federal Investigation Agency (FIA)", "وفاقی تحقیقاتی ادارہ (ایف آئی اے)"),
        ("asf", "Airport Security Force", "ایئرپورٹ سکیورٹی فورس"),
        ("immigration", "Immigration and Passports", "امیگریشن اینڈ پاسپورٹس"),
        ("nadra", "NADRA", "نادرا"),
        (
            "emigration",
            "Bureau of Emigration / Protector of Emigrants",
            "بیورو آف امیگریشن / پروٹیکٹر آف امیگرنٹس",
        ),
        ("labour", "Labour Department", "محکمہ محنت"),
        ("district-admin", "District administration", "ضلعی انتظامیہ"),
        ("customs", "Customs", "کسٹمز"),
        ("prisons", "Prisons", "جیل خانہ جات"),
        ("courts", "Courts", "عدالتیں"),
        ("elected", "Elected representative", "منتخب نمائندہ"),
        ("other", "Other", "کوئی اور"),
    ],
    "province": [
        ("punjab", "Punjab", "پنجاب"),
        ("sindh", "Sindh", "سندھ"),
        ("kp", "Khyber Pakhtunkhwa", "خیبر پختونخوا"),
        ("balochistan", "Balochistan", "بلوچستان"),
        ("islamabad", "Islamabad Capital Territory", "اسلام آباد"),
        ("gb", "Gilgit-Baltistan", "گلگت بلتستان"),
        ("ajk", "Azad Jammu and Kashmir", "آزاد جموں و کشمیر"),
        ("abroad", "Outside Pakistan", "پاکستان سے باہر"),
    ],
    "when": [
        ("ongoing", "It is still going on", "یہ اب بھی جاری ہے"),
        ("week", "In the last week", "پچھلے ایک ہفتے میں"),
        ("month", "In the last month", "پچھلے ایک مہینے میں"),
        ("half-year", "In the last six months", "پچھلے چھ مہینوں میں"),
        ("year", "In the last year", "پچھلے ایک سال میں"),
        ("older", "More than a year ago", "ایک سال سے زیادہ پہلے"),
    ],
    "complicity": [
        (
            "bribery",
            "Taking money to release or protect traffickers or smugglers",
            "اسمگلروں کو چھوڑنے یا بچانے کے لیے پیسے لینا",
        ),
        ("tip-off", "Warning traffickers before a raid", "چھاپے سے پہلے اسمگلروں کو خبردار کرنا"),
        (
            "refused-complaint",
            "Refusing to register an FIR or a complaint",
            "ایف آئی آر یا شکایت درج کرنے سے انکار",
        ),
        (
            "records",
            "Falsifying, hiding or destroying records or evidence",
            "ریکارڈ یا ثبوت میں جعل سازی، انہیں چھپانا یا ضائع کرنا",
        ),
        (
            "documents",
            "Issuing false passports, ID cards, visas or other papers",
            "جعلی پاسپورٹ، شناختی کارڈ، ویزا یا دوسرے کاغذات جاری کرنا",
        ),
        (
            "border",
            "Letting people through airports, borders or checkpoints",
            "ہوائی اڈوں، سرحدوں یا چیک پوسٹوں سے لوگوں کو گزارنا",
        ),
        (
            "bonded-labour",
            "Protecting those who hold bonded labourers (kilns, farms, factories)",
            "جبری مشقت کروانے والوں (بھٹے، کھیت، کارخانے) کی پشت پناہی",
        ),
        (
            "returning-victims",
            "Returning people who escaped to traffickers or employers",
            "فرار ہونے والوں کو واپس اسمگلروں یا مالکان کے حوالے کرنا",
        ),
        (
            "participation",
            "Taking part: recruiting, moving or holding people",
            "خود شامل ہونا: لوگوں کو بھرتی کرنا، لے جانا یا قید رکھنا",
        ),
        (
            "sexual-abuse",
            "Sexual exploitation or abuse of victims",
            "متاثرین کا جنسی استحصال یا زیادتی",
        ),
        (
            "intimidation",
            "Threatening or harming victims, witnesses or complainants",
            "متاثرین، گواہوں یا شکایت کرنے والوں کو دھمکانا یا نقصان پہنچانا",
        ),
        (
            "victims-charged",
            "Arresting or charging victims instead of offenders",
            "مجرموں کے بجائے متاثرین کو گرفتار کرنا یا ان پر مقدمہ بنانا",
        ),
        ("other", "Something else", "کچھ اور"),
    ],
}
