"""A name the report only repeats from others: "log kehte hain ke SHO Rana ne paise liye".

A source who saw nothing often writes what reached them: "the munshi said ASI Tariq took
the money, but he lies", "people say SHO Rana took a share", "log kehte hain ke ...",
"kaha jata hai ke ...", "suna hai ke ...", "سنا ہے کہ ...", "لوگ کہتے ہیں کہ ...", "منشی نے
بتایا کہ ...", "there is a rumour that ...", "I heard from the munshi that ...", "SHO
Rana is said to have taken it", "... aisa log kehte hain", "baad mein pata chala ke ...",
"..., according to a boy who worked for him", "allegedly", "مبینہ طور پر", "منشی کے مطابق
...". Such a name is no witness's:
read as one, a rumour (or the munshi's grudge) linked strongly to the reports that do
accuse him, and two families repeating one rumour counted as two witnesses. Its
designation says so (`designations.HEARD`), where a reviewer sees it, and
`links.pair_strength` makes a link on it weak.

A cue before the name ("people say", "X said", "suna hai ke") covers the names after it
in its sentence; one after it ("..., log kehte hain", "is said to") the names before it
in its sentence. "But", "lekin", "magar", "لیکن", "مگر" or a semicolon ends a cue's reach:
"people say ASI Tariq took a share, but I saw SHO Rana take it" heard of the first alone.
A man the writer heard himself is no hearsay ("I heard SHO Rana ask for Rs 50,000"), nor
is one who tells it ("Munshi Abdul Sattar said ..."), nor "the said SHO" of a record's
English. A name is the writer's own word when its first mention is under no cue: a man the
writer saw for themselves stays accused, whatever the village says of him besides. A name
first given under a cue stays heard when it is repeated with none ("People say SHO Rana
takes money. SHO Rana also ..." repeats the rumour; read as a witness, it linked strongly
again), unless the writer says they saw him ("I saw", "maine dekha", "میں نے دیکھا", "in
front of me") before a later mention in its sentence. Cues and breaks are each found in
one scan and paired by search, so marking is linear.
"""

from __future__ import annotations

import bisect
import dataclasses
import re
from collections.abc import Sequence
from typing import Final

from review.analysis import designations
from review.analysis.designations import M

# What others say, before the names it covers: "people say", "log kehte hain ke", "X said
# (that)", "X told me (that)", "I heard from", "I heard that", "I was told", "there is a
# rumour", "it is said", "reportedly", "allegedly", "according to X," (its teller, up to the
# comma, is no hearsay); "kaha jata hai", "suna hai", "sunne mein aya", "afwah", "X ne bataya
# ke", "X ne kaha ke", "pata chala (hai) ke" (it came to be known), "mubayyana taur par", "X
# ke mutabiq"; "سنا ہے", "کہا جاتا ہے", "لوگ کہتے ہیں", "سننے میں آیا", "افواہ", "نے بتایا کہ",
# "نے کہا کہ", "مبینہ طور پر", "X کے مطابق". Not "I heard SHO Rana ask": the writer heard him;
# nor "told her father", "was told to go": no one's word is passed on; nor "according to
# law", "qanoon ke mutabiq", "قانون کے مطابق": what a man did against the law, not who said it.
_LEAD: Final = re.compile(
    # one word boundary before every Latin cue: a scan seven times as fast as one each
    r"\b(?:(?:people|they|everyone|villagers|others|log)\s+(?:say|says|said|claim|claimed)\b"
    r"|(?<!\bthe\s)(?:said|says)\b(?!\s+to\b)|told\s+(?:me|us|them)\b(?!\s+(?:not\s+)?to\b)"
    r"|heard\s+(?:from|that|it\s+said)\b|have\s+heard\b|had\s+heard\b"
    r"|(?:was|were|am|are|have\s+been|had\s+been)\s+told\b(?!\s+(?:not\s+)?to\b)"
    r"|came\s+to\s+know\s+(?:that|from)\b"
    r"|rumou?r(?:s|ed)?\b|it\s+is\s+(?:said|heard|believed)\b|it\s+was\s+(?:said|heard)\b"
    r"|reportedly\b|allegedly\b|word\s+is\b|according\s+to\s+(?!(?:the\s+|no\s+|any\s+)?(?:law|rules?)\b)[^,.;\n]{1,60},"
    r"|pata\s+chala\s+(?:hai\s+|tha\s+)?(?:ke|kay|keh|ki)\b"
    r"|mubayyana\s+(?:taur|tor)\s+(?:par|pe|pa)\b|(?<!qanoon\s)(?<!qanun\s)(?:ke|kay|ky)\s+mutabiq\b"
    r"|log\s+(?:kehte|kahte|kehtay|kahtay|keh\s+rahe)\s+(?:hain|hein|hai|thay|the)\b"
    r"|(?:kehte|kahte|kehtay|kehta|kehti)\s+(?:hain|hein|hai|tha|thay|the|thi)\s+"
    r"(?:ke|kay|keh|ki)\b"
    r"|kaha\s+jata\s+(?:hai|tha)\b|suna\s+(?:hai|hy|he|tha)\b"
    r"|(?:maine|mainay|hamne|humne|main\s+ne|hum\s+ne)\s+suna\s+(?:ke|kay|keh|ki|hai)\b"
    r"|sunne\s+(?:mein|main|me)\s+(?:aya|aaya)\b|afwah\b|afwa\b"
    r"|(?:ne|nay)\s+(?:(?:hamein|hamen|humein|mujhe|muje|mujhay)\s+)?(?:bataya|kaha)\s+"
    r"(?:(?:hai|tha)\s+)?(?:ke|kay|keh|ki)\b)"
    r"|سنا\s+(?:ہے|تھا)|نے\s+سنا\s+(?:ہے\s+)?کہ|کہا\s+جاتا\s+(?:ہے|تھا)|لوگ\s+کہتے\s+(?:ہیں|تھے)"
    r"|کہتے\s+(?:ہیں|تھے)\s+کہ|کہتا\s+(?:ہے|تھا)\s+کہ|سننے\s+میں\s+آیا|افواہ"
    r"|نے\s+(?:(?:ہمیں|مجھے)\s+)?(?:بتایا|کہا)\s+(?:(?:ہے|تھا)\s+)?کہ"
    r"|مبینہ\s+طور\s+پر|(?<!قانون\s)کے\s+مطابق"
)
# What others say, after the names it covers: "..., people say", "they say", "so I heard",
# "I am told", "is said to", "is rumoured to", "reportedly", "allegedly", "according to X"
# (the corpora write it after the names, its teller after it: "..., according to a boy who
# worked for him"); "log kehte hain", "suna hai", "kaha jata hai", "mubayyana taur par";
# "لوگ کہتے ہیں", "سنا ہے", "کہا جاتا ہے", "افواہ ہے", "مبینہ طور پر".
_TRAIL: Final = re.compile(
    r"\b(?:(?:people|they|everyone|villagers|others)\s+(?:say|said)\b"
    r"|so\s+i\s+(?:heard|am\s+told)\b|i\s+(?:am|was)\s+told\b|it\s+is\s+said\b|reportedly\b"
    r"|allegedly\b|according\s+to\b(?!\s+(?:the\s+|no\s+|any\s+)?(?:law|rules?)\b)"
    r"|mubayyana\s+(?:taur|tor)\s+(?:par|pe|pa)\b"
    r"|(?:is|was|are|were)\s+(?:said|rumou?red|believed)\s+to\b"
    r"|log\s+(?:kehte|kahte|kehtay|kahtay)\s+(?:hain|hein|hai|thay|the)\b"
    r"|suna\s+(?:hai|hy|he|tha)\b|kaha\s+jata\s+(?:hai|tha)\b|afwah\s+hai\b)"
    r"|لوگ\s+کہتے\s+(?:ہیں|تھے)|سنا\s+(?:ہے|تھا)|کہا\s+جاتا\s+(?:ہے|تھا)|افواہ\s+ہے"
    r"|مبینہ\s+طور\s+پر"
)
# Where a cue's reach ends: a sentence's end (a full stop after a word of three letters or
# more, a number, a quotation or a bracket, so not after "Ch." or "A.S.I."), a line's end,
# a semicolon, or a word that turns from what was said to what was seen ("but I saw").
_BREAK: Final = re.compile(
    r"[.](?:(?<=\w\w\w[.])|(?<=[\d\"\u201d)][.]))(?=\s|$)|[!?\n;\u061b\u06d4]"
    r"|\b(?:but|however|whereas|lekin|magar|mager|jabke|jab\s+ke|balkay|balke)\b|لیکن|مگر|جبکہ|بلکہ"
)
# What the writer saw for themselves, before the names it covers: "I saw", "I myself saw",
# "in front of me", "with my own eyes", "maine (khud) dekha", "mere samne", "میں نے (خود)
# دیکھا", "میرے سامنے", "اپنی آنکھوں سے". Only this makes a name first given as hearsay the
# writer's own witness: a later mention with no cue repeats the rumour.
_SEEN: Final = re.compile(
    r"\b(?:i\s+(?:myself\s+|also\s+|then\s+|have\s+|had\s+)?(?:saw|watched|have\s+seen|had\s+seen)\b"
    r"|in\s+front\s+of\s+(?:me|us|my\s+eyes)\b|before\s+my\s+(?:own\s+)?eyes\b"
    r"|with\s+my\s+own\s+eyes\b"
    r"|(?:maine|mainay|main\s+ne|hamne|humne|hum\s+ne)\s+(?:khud\s+|apni\s+aankhon\s+se\s+)?"
    r"(?:dekha|dekhi|dekhe)\b|(?:mere|meray|hamare)\s+(?:samne|saamne|samnay)\b"
    r"|(?:apni|meri)\s+aankhon\s+(?:se|ke\s+samne)\b)"
    r"|(?:میں|ہم)\s+نے\s+(?:خود\s+|اپنی\s+آنکھوں\s+سے\s+)?دیکھ[اای]|(?:میرے|ہمارے)\s+سامنے"
    r"|(?:اپنی|میری)\s+آنکھوں\s+(?:سے|کے\s+سامنے)"
)
# How far a cue reaches within its sentence.
_REACH: Final = 100


def mark(text: str, mentions: Sequence[M]) -> list[M]:
    """`mentions`, each person the text names only as hearsay marked `designations.HEARD`."""
    people = [m for m in mentions if m.kind == "person"]
    if not people:
        return list(mentions)
    leads = [m.end() for m in _LEAD.finditer(text)]
    trails = [m.start() for m in _TRAIL.finditer(text)]
    if not leads and not trails:
        return list(mentions)
    breaks = [m.start() for m in _BREAK.finditer(text)]
    heard = {id(m): _heard(m.start, m.end, leads, trails, breaks) for m in people}
    seen = [m.end() for m in _SEEN.finditer(text)]
    witnessed: set[str] = set()
    first_heard: set[str] = set()
    for m in sorted(people, key=lambda m: m.start):
        if m.key not in first_heard and not heard[id(m)]:
            witnessed.add(m.key)  # first named as the writer's own word
        elif m.key not in witnessed:
            first_heard.add(m.key)
            if _seen(m.start, seen, leads, breaks):
                witnessed.add(m.key)  # "... I saw SHO Rana take it" after the rumour
    out = []
    for m in mentions:
        if m.kind == "person" and heard[id(m)] and m.key not in witnessed:
            said = designations.parse(m.designation)._replace(heard=True)
            m = dataclasses.replace(m, designation=designations.render(said))  # type: ignore[type-var]
        out.append(m)
    return out


def _heard(start: int, end: int, leads: list[int], trails: list[int], breaks: list[int]) -> bool:
    """Whether a cue covers the name at [start, end): one before it, or after it, in its
    sentence and within `_REACH`, with no break between."""
    k = bisect.bisect_right(leads, start) - 1
    if k >= 0 and start - leads[k] <= _REACH and not _broken(breaks, leads[k], start):
        return True
    k = bisect.bisect_left(trails, end)
    return k < len(trails) and trails[k] - end <= _REACH and not _broken(breaks, end, trails[k])


def _seen(start: int, seen: list[int], leads: list[int], breaks: list[int]) -> bool:
    """Whether the writer's "I saw" covers the name at `start`: before it in its sentence,
    within `_REACH`, nearer than any cue of hearsay ("I saw the munshi, who said SHO Rana
    ..." is hearsay still)."""
    k = bisect.bisect_right(seen, start) - 1
    if k < 0 or start - seen[k] > _REACH or _broken(breaks, seen[k], start):
        return False
    j = bisect.bisect_right(leads, start) - 1
    return j < 0 or leads[j] < seen[k]


def _broken(breaks: list[int], a: int, b: int) -> bool:
    """Whether a break stands between offsets a and b."""
    k = bisect.bisect_left(breaks, a)
    return k < len(breaks) and breaks[k] < b
