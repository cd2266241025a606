"""Fields a document fills in from its writer's profile, its path or its times, made neutral.

Word's AUTHOR, USERNAME, FILENAME \\p, SAVEDATE and the like, and LibreOffice's
author, sender, file name and date fields keep their last result as the text
the reader sees: the writer's name, C:\\Users\\<name>\\..., the minute a page was
printed; so does a content control bound to such a property. Each such field
shows a placeholder instead ("[author]", "[file]", "[date]"), and its code
becomes one that names nothing (QUOTE "[author]"), so updating it shows the
placeholder again. A field linking or including another
file (HYPERLINK, INCLUDEPICTURE, LINK) keeps what it shows but loses the file's
path. Other fields (PAGE, a link to a web page or a bookmark) stay. Each part is
read once, tag by tag, so a hostile part costs linear time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

_AUTHOR: Final = b"[author]"
_FILE: Final = b"[file]"
_DATE: Final = b"[date]"
_WORD: Final = {
    b"AUTHOR": _AUTHOR,
    b"USERNAME": _AUTHOR,
    b"USERINITIALS": _AUTHOR,
    b"USERADDRESS": _AUTHOR,
    b"LASTSAVEDBY": _AUTHOR,
    b"DOCPROPERTY": _AUTHOR,  # any property: Company, Manager, a custom Owner
    b"INFO": _AUTHOR,
    b"DOCVARIABLE": _AUTHOR,
    b"FILENAME": _FILE,
    b"TEMPLATE": _FILE,
    b"CREATEDATE": _DATE,
    b"SAVEDATE": _DATE,
    b"PRINTDATE": _DATE,
    b"EDITTIME": _DATE,
    b"DATE": _DATE,
    b"TIME": _DATE,
}
# Fields that link or include another file: a path in their code, the result kept.
_LINKING: Final = frozenset(
    (b"HYPERLINK", b"INCLUDEPICTURE", b"INCLUDETEXT", b"LINK", b"RD", b"DDE", b"DDEAUTO")
)
_WEB: Final = re.compile(rb"(?:https?://|mailto:)", re.IGNORECASE)
_TARGET: Final = re.compile(rb'(?:"|&quot;)([^"&]*)')
# Word: a simple field's tag (its code an attribute) and end, a complex field's marks
# and code, and the text a field shows.
# A content control bound to a property (Quick Parts > Document Property > Author, a cover
# page's company e-mail) keeps the property's last value as its text.
_BOUND: Final = {
    b"creator": _AUTHOR,
    b"lastModifiedBy": _AUTHOR,
    b"Company": _AUTHOR,
    b"Manager": _AUTHOR,
    b"CompanyAddress": _AUTHOR,
    b"CompanyPhone": _AUTHOR,
    b"CompanyFax": _AUTHOR,
    b"CompanyEmail": _AUTHOR,
    b"created": _DATE,
    b"modified": _DATE,
    b"lastPrinted": _DATE,
    b"PublishDate": _DATE,
}
_XPATH: Final = re.compile(rb"""\sw:xpath\s*=\s*["']([^"'<>]*)""")
_WORD_TOKENS: Final = re.compile(
    rb"<w:sdt(?=[\s>])[^<>]*>|</w:sdt>|<w:dataBinding\b[^<>]*>|<w:sdtContent\b[^<>]*>"
    rb"|<w:fldSimple\b[^<>]*>|</w:fldSimple>|<w:fldChar\b[^<>]*>"
    rb"|(<w:(?:del)?instrText\b[^<>]*>)[^<]*|(<w:(?:t|delText)\b[^<>]*>)[^<]*"
)
_MARK: Final = re.compile(rb"""w:fldCharType\s*=\s*["'](begin|separate|end)["']""")
_INSTR: Final = re.compile(rb"""(\sw:instr\s*=\s*)(?:"([^"<]*)"|'([^'<]*)')""")
_ODF_FIELDS: Final = (
    rb"author-name|author-initials|sender-[a-z-]+|file-name|template-name|initial-creator"
    rb"|creator|printed-by|creation-date|creation-time|modification-date|modification-time"
    rb"|print-date|print-time|editing-duration|date|time|user-defined"
)
# The element and all it holds, or (never closed) the rest of the part.
_ODF: Final = re.compile(
    rb"<text:(" + _ODF_FIELDS + rb")(?=[\s/>])[^<>]*?(?:/>|>.*?(?:</text:\1>|\Z))", re.DOTALL
)


def neutral(body: bytes) -> bytes:
    """The part with each field naming its writer, a path or a time showing a placeholder."""
    if b"<w:" in body:
        body = _word(body)
    if b"<text:" in body:
        body = _ODF.sub(lambda m: _odf_placeholder(m[1]), body)
    return body


def _odf_placeholder(name: bytes) -> bytes:
    if name in (b"file-name", b"template-name"):
        return _FILE
    if name.endswith((b"date", b"time", b"duration")):
        return _DATE
    return _AUTHOR


@dataclass
class _Field:
    """A Word field being read: its code's pieces, and whether it shows its result yet."""

    simple: bool
    code: list[re.Match[bytes]] = field(default_factory=list)
    placeholder: bytes | None = None
    showing: bool = False
    shown: bool = False


def _placeholder(code: bytes) -> bytes | None:
    words = code.split()
    return _WORD.get(words[0].upper()) if words else None


def _rewritten(code: bytes) -> tuple[bytes | None, bytes | None]:
    """The field's new code, if it needs one, and the placeholder its result becomes."""
    placeholder = _placeholder(code)
    if placeholder is not None:
        return b' QUOTE "' + placeholder + b'" ', placeholder
    words = code.split()
    if not words or words[0].upper() not in _LINKING:
        return None, None
    rest = code.strip()[len(words[0]) :].lstrip()
    if rest.startswith(b"\\"):
        return None, None  # HYPERLINK \l "_Toc1": a place in this document
    target = _TARGET.search(rest)
    if _WEB.match(target[1] if target else rest):
        return None, None
    return b" " + words[0] + b' "" ', None


def _word(body: bytes) -> bytes:
    edits: list[tuple[int, int, bytes]] = []  # start, end, what replaces them
    fields: list[_Field] = []
    shown_by: list[_Field] = []  # the fields showing a placeholder, innermost last
    controls: list[_Field] = []
    for token in _WORD_TOKENS.finditer(body):
        tag = token[0]
        if tag.startswith((b"<w:sdt", b"</w:sdt>", b"<w:dataBinding")):
            _control(tag, controls, shown_by)
        elif tag.startswith(b"<w:fldSimple"):
            instr = _INSTR.search(tag)
            code, placeholder = _rewritten(instr[2] or instr[3] or b"") if instr else (None, None)
            if code is not None and instr is not None:
                code = instr[1] + b'"' + code.replace(b'"', b"&quot;") + b'"'
                edits.append((token.start() + instr.start(), token.start() + instr.end(), code))
            if not tag.endswith(b"/>"):
                fields.append(_Field(True, placeholder=placeholder, showing=True))
                if placeholder is not None:
                    shown_by.append(fields[-1])
        elif tag == b"</w:fldSimple>":
            if fields and fields[-1].simple:
                _close(fields, shown_by)
        elif tag.startswith(b"<w:fldChar"):
            mark = _MARK.search(tag)
            kind = mark[1] if mark else b""
            if kind == b"begin":
                fields.append(_Field(False))
            elif fields and not fields[-1].simple and kind in (b"separate", b"end"):
                edits.extend(_code_read(fields[-1], body, shown_by))
                if kind == b"end":
                    _close(fields, shown_by)
        elif token[1] is not None:
            if fields and not fields[-1].simple and not fields[-1].showing:
                fields[-1].code.append(token)
        elif shown_by:
            inner = shown_by[-1]
            shown = b"" if inner.shown else inner.placeholder or b""
            edits.append((token.start(), token.end(), token[2] + shown))
            inner.shown = True
    out, at = [], 0
    for start, end, text in sorted(edits):
        out += [body[at:start], text]
        at = end
    out.append(body[at:])
    return b"".join(out)


def _control(tag: bytes, controls: list[_Field], shown_by: list[_Field]) -> None:
    """A content control opens, is bound, shows its content or closes."""
    if tag.startswith(b"<w:dataBinding"):
        xpath = _XPATH.search(tag)
        if controls and xpath:
            # "/ns1:coreProperties[1]/ns0:creator[1]": the property is the last step's name.
            step = xpath[1].rpartition(b"/")[2].partition(b"[")[0].rpartition(b":")[2]
            controls[-1].placeholder = _BOUND.get(step)
    elif tag.startswith(b"<w:sdtContent"):
        if controls and controls[-1].placeholder is not None and not tag.endswith(b"/>"):
            controls[-1].showing = True
            shown_by.append(controls[-1])
    elif tag == b"</w:sdt>":
        if controls:
            _close(controls, shown_by)
    elif not tag.endswith(b"/>"):
        controls.append(_Field(False))


def _close(fields: list[_Field], shown_by: list[_Field]) -> None:
    if shown_by and shown_by[-1] is fields[-1]:
        shown_by.pop()
    fields.pop()


def _code_read(
    current: _Field, body: bytes, shown_by: list[_Field]
) -> list[tuple[int, int, bytes]]:
    """A complex field's code is all read: if it names its writer, it is rewritten."""
    if current.showing:
        return []
    current.showing = True
    code, current.placeholder = _rewritten(b"".join(body[m.end(1) : m.end()] for m in current.code))
    if code is None:
        return []
    if current.placeholder is not None:
        shown_by.append(current)
    return [
        (piece.start(), piece.end(), piece[1] + (code if n == 0 else b""))
        for n, piece in enumerate(current.code)
    ]
