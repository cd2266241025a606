"""Reading what was filed: a report's message, fields and attachments, and exporting one.

Everything here decrypts into memory, except `open_attachment`, which writes
one attachment to a path the reviewer chose, through a temporary file beside it
that is renamed into place only after the whole blob has verified.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final

from crypto import open_bytes, open_to_path
from review.casework import triage, writing
from review.errors import NotFound, ReviewError
from review.workspace import Unlocked, audit
from review.workspace.blobs import open_blob, read_blob
from review.workspace.schema import transaction
from review.workspace.state import State


@dataclass(frozen=True)
class Content:
    """What a source wrote in the report form: the message, the fields, the language."""

    message: str
    fields: dict[str, Any] = field(default_factory=dict)
    language: str | None = None

    def searchable(self) -> str:
        """The text a search should find this report by."""
        return "\n".join([self.message, *(field_text(v) for v in self.fields.values())])


def field_text(value: Any) -> str:
    """Show a report field: a term's label (the server sends code and English label), or text."""
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(t for t in (field_text(v) for v in value) if t)
    if isinstance(value, dict):
        return str(value.get("label") or value.get("code") or "")
    return str(value)


@dataclass(frozen=True)
class Attachment:
    """One item of a report other than its message: a file, or an item not yet readable."""

    index: int
    item: str
    status: str
    name: str | None = None
    content_type: str | None = None
    length: int | None = None
    problem: str | None = None
    kind: str = "file"  # "report" is the report's own text (message and answers), unreadable

    @property
    def label(self) -> str:
        """What to call the item: its file name, marked if made to look like another name,
        or what it holds when it has none."""
        if not self.name:
            return "the report's text" if self.kind == "report" else ""
        marks = lookalike(self.name)
        return f"{self.name} (!! {'; '.join(marks)})" if marks else self.name


# Scripts with letters drawn like Latin ones: a name mixing two of them may imitate another.
_LOOKALIKE_SCRIPTS: Final = ("LATIN", "CYRILLIC", "GREEK", "ARMENIAN", "CHEROKEE", "COPTIC")


def lookalike(name: str) -> list[str]:
    """What makes a file name look like another one on the screen, if anything does.

    Whoever sealed the report chose it: letters of two scripts drawn alike ("ledger"
    with a Cyrillic U+0435 for its e), blanks that are not spaces (a Hangul filler draws
    as nothing), compatibility forms (a fullwidth U+FF4C for an l). The sealer refuses
    control and format characters.
    """
    marks = []
    scripts = []
    for ch in name:
        if unicodedata.category(ch).startswith("L"):
            script = unicodedata.name(ch, "").split(" ")[0]
            if script in _LOOKALIKE_SCRIPTS and script not in scripts:
                scripts.append(script)
    if len(scripts) > 1:
        mixed = " and ".join(s.title() for s in scripts)
        marks.append(f"mixes {mixed} letters")
    if any(ch in _BLANKS or (unicodedata.category(ch) == "Zs" and ch != " ") for ch in name):
        marks.append("holds blank characters that are not spaces")
    if unicodedata.normalize("NFKC", name) != unicodedata.normalize("NFC", name):
        marks.append("written in compatibility forms")
    return marks


# Letters and symbols drawn as nothing, or as a blank.
_BLANKS: Final = frozenset("\u115f\u1160\u3164\uffa0\u2800\u2028\u2029")


@dataclass(frozen=True)
class Reply:
    """A reply a reviewer wrote, from the workspace's sealed copy."""

    id: str
    author: str
    text: str
    exported_in: str | None


@dataclass(frozen=True)
class ReportView:
    """Everything `show` displays about one report."""

    num: int
    submission: str
    source: str
    day: dt.date
    state: State
    contents: list[Content]
    attachments: list[Attachment]
    notes: list[triage.Note]
    replies: list[Reply]

    def missing_text(self) -> str | None:
        """Say why the report's own text cannot be shown, when it cannot."""
        if self.contents:
            return None
        for a in self.attachments:
            if a.kind == "report":
                what = "is missing" if a.status == "damaged" else "is not readable here"
                return f"the report's text (its message and form answers) {what}: {a.problem}"
        return None


def parse_report(data: bytes) -> Content:
    """Read the server's report record; anything else is shown as the text it holds.

    A source seals every byte of it: a record nested deeper than a form's, with a lone
    surrogate (`"\\ud800"`) that no text can be written with, or with a language that is
    not a language tag (it is drawn in the Message heading), is shown as its text.
    """
    try:
        obj = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return Content(message=data.decode("utf-8", "replace"))
    if not isinstance(obj, dict) or not isinstance(obj.get("message"), str) or not _formed(obj):
        return Content(message=data.decode("utf-8", "replace"))
    fields = obj.get("fields")
    return Content(
        message=obj["message"],
        fields=fields if isinstance(fields, dict) else {},
        language=obj.get("language"),
    )


# The deepest a report record nests: the form's is three (fields, a list, a term).
_DEPTH_MAX: Final = 8


# A language as the form records it ("en", "ur"): a BCP 47 tag, never a line of text.
_LANGUAGE: Final = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8}){0,3}")


def _formed(obj: dict[str, Any]) -> bool:
    """Whether a record's language is a tag, it nests as a form's does, its text is Unicode."""
    language = obj.get("language")
    if language is not None and not (isinstance(language, str) and _LANGUAGE.fullmatch(language)):
        return False
    stack: list[tuple[Any, int]] = [(obj, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            # A lone surrogate is not ASCII: most strings are, and are passed at once.
            if not value.isascii():
                try:
                    value.encode("utf-8")
                except UnicodeEncodeError:
                    return False
        elif isinstance(value, dict | list):
            if depth > _DEPTH_MAX:
                return False
            items = [*value, *value.values()] if isinstance(value, dict) else value
            stack.extend((v, depth + 1) for v in items)
    return True


def item_info(u: Unlocked, item: str, sealed: bytes) -> dict[str, Any]:
    """Unseal an item's metadata: kind, content type, file name, length."""
    info: dict[str, Any] = json.loads(u.key.open_record(sealed, item_context(item)))
    return info


def item_context(item: str) -> bytes:
    """The context an item's metadata record is sealed under."""
    return f"item:{item}".encode("ascii")


def read_report(u: Unlocked, num: int) -> ReportView:
    """Decrypt one report whole, in memory."""
    state = triage.load_state(u, num)
    submission, source, day = u.conn.execute(
        "SELECT submission, source, day FROM reports WHERE num = ?", (num,)
    ).fetchone()
    contents = []
    for _item, blob, sealed in _items(u.conn, num, kind="report"):
        if blob is not None and sealed is not None:
            contents.append(parse_report(_open_blob(u, blob)))
    written = []
    for rowid, reply_id, sealed, exported in u.conn.execute(
        "SELECT rowid, id, sealed, exported_in FROM replies WHERE report = ? ORDER BY rowid",
        (num,),
    ):
        obj = json.loads(u.key.open_record(sealed, reply_context(reply_id)))
        # Replies from before session 41 say not when: their rowids counted up, in order.
        when = (obj.get("written_ns", 0), rowid)
        written.append((when, Reply(reply_id, obj["author"], obj["text"], exported)))
    replies = [reply for _, reply in sorted(written, key=lambda pair: pair[0])]
    return ReportView(
        num=num,
        submission=submission,
        source=source,
        day=dt.date.fromisoformat(day),
        state=state,
        contents=contents,
        attachments=attachments(u, num),
        notes=triage.notes(u, num),
        replies=replies,
    )


def attachments(u: Unlocked, num: int) -> list[Attachment]:
    """A report's items other than the message, numbered from 1: by file name, unreadable last.

    The server's item ids are random and it keeps no order of arrival, so the
    file name is the only stable order there is.
    """
    rows = u.conn.execute(
        "SELECT id, kind, status, problem, info FROM items WHERE report = ?"
        " AND (kind != 'report' OR status != 'filed')",
        (num,),
    ).fetchall()
    found = []
    for item, kind, status, problem, sealed in rows:
        if status == "filed" and sealed is not None:
            info = item_info(u, item, sealed)
            found.append(
                Attachment(0, item, status, info.get("name"), info.get("type"), info.get("length"))
            )
        else:
            found.append(Attachment(0, item, status, problem=problem, kind=kind))
    found.sort(key=lambda a: (a.status != "filed", a.kind != "report", a.name or "", a.item))
    return [replace(a, index=i) for i, a in enumerate(found, start=1)]


# The most attachments `show` and the terminal UI list. The browser form sends 20 at most;
# whoever seals a report chooses how many items it has, and one of 5,000 was drawn whole
# (a row each, 11 s), pushing the notes and replies below thousands of lines.
LISTED_MAX: Final = 100


def listed(view: ReportView) -> tuple[list[Attachment], str | None]:
    """The attachments to list, and what to say of those not listed: the unreadable ones,
    which come last, are always listed (they say what is missing)."""
    readable: list[Attachment] = []
    rest: list[Attachment] = []
    for a in view.attachments:
        (readable if a.status == "filed" and a.kind != "report" else rest).append(a)
    if len(readable) <= LISTED_MAX:
        return view.attachments, None
    first, last = readable[LISTED_MAX].index, readable[-1].index
    said = (
        f"({len(readable) - LISTED_MAX:,} more attachments, numbered {first:,} to {last:,} by"
        f" name, are not listed: a report with this many may be built to flood the screen;"
        f" `raazdar-review report view {view.num} N` reads attachment N, `report open` writes it)"
    )
    return readable[:LISTED_MAX] + rest, said


# The largest attachment `read_attachment` decrypts into memory.
VIEW_MAX: Final = 32 * 1024 * 1024


def read_attachment(u: Unlocked, num: int, which: str) -> tuple[Attachment, bytes]:
    """Decrypt one attachment into memory, to be shown without writing plaintext anywhere."""
    attachment = _readable(u, num, which)
    if attachment.length is not None and attachment.length > VIEW_MAX:
        raise ReviewError(
            f"attachment {which} is too large to read in memory ({attachment.length:,} bytes)",
            hint="`open` writes it to a file, outside the workspace",
        )
    blob = u.conn.execute("SELECT blob FROM items WHERE id = ?", (attachment.item,)).fetchone()[0]
    data = _open_blob(u, blob)
    with transaction(u.conn):
        audit.append(u, "view", num, {"attachment": attachment.item})
    return attachment, data


def _readable(u: Unlocked, num: int, which: str) -> Attachment:
    """One readable attachment, by number, item id or file name."""
    triage.load_state(u, num)  # the report exists and is not routed away from this reviewer
    attachment = chosen(attachments(u, num), num, which)
    if attachment.status != "filed":
        raise ReviewError(f"attachment {which} is not readable here: {attachment.problem}")
    return attachment


def chosen(listed: list[Attachment], num: int, which: str) -> Attachment:
    """The one attachment `which` names: by the number `show` lists, its item id, or its name.

    Its source chose the name, and whoever sealed a browser report (the server) did:
    digits are only ever a number, never a name made to be another attachment's number,
    and a name that two attachments' names match once folded (NFKC, case: the same on
    the screen) chooses neither.
    """
    if _NUMBER.fullmatch(which):
        found = [a for a in listed if a.index == int(which)]
    else:
        found = [a for a in listed if a.item == which] or [
            a for a in listed if a.name is not None and _folded(a.name) == _folded(which)
        ]
    if not found:
        raise NotFound(f"report {num} has no attachment {which!r}", hint="`show` lists them")
    if len(found) > 1:
        numbers = [str(a.index) for a in found]
        raise ReviewError(
            f"attachments {', '.join(numbers[:-1])} and {numbers[-1]} of report {num} are named"
            " alike",
            hint="give the attachment's number, as `show` lists it",
        )
    return found[0]


_NUMBER: Final = re.compile(r"[0-9]{1,9}")


def _folded(name: str) -> str:
    return unicodedata.normalize("NFKC", name).casefold()


def open_attachment(
    u: Unlocked,
    num: int,
    which: str,
    out: Path,
    ask: Callable[[Attachment], None] | None = None,
) -> Attachment:
    """Write one attachment's plaintext to `out`, only once all of it has verified.

    `ask` is called once every check has passed and before anything is written:
    it raises to stop.
    """
    attachment = _readable(u, num, which)
    if out.exists() or out.is_symlink():
        raise ReviewError(f"{out} already exists", hint="choose a new file name")
    if not out.parent.is_dir():
        raise ReviewError(f"{out.parent} is not a directory")
    if u.workspace.holds(out.parent):
        raise ReviewError(
            "the workspace holds no plaintext: write the attachment somewhere else",
            hint="an encrypted volume of its own, or the stick it leaves on",
        )
    if ask is not None:
        ask(attachment)
    blob = u.conn.execute("SELECT blob FROM items WHERE id = ?", (attachment.item,)).fetchone()[0]
    with open_blob(u.workspace, blob) as src, writing.noted(out):
        open_to_path(src, out, [u.key.identity])
    with transaction(u.conn):
        audit.append(u, "open", num, {"attachment": attachment.item, "out": str(out)})
    return attachment


def reply_context(reply_id: str) -> bytes:
    """The context a reply's sealed copy is stored under."""
    return f"reply:{reply_id}".encode("ascii")


def _items(
    conn: sqlite3.Connection, num: int, *, kind: str
) -> list[tuple[str, str | None, bytes | None]]:
    return conn.execute(
        "SELECT id, blob, info FROM items WHERE report = ? AND kind = ? AND status = 'filed'"
        " ORDER BY rowid",
        (num, kind),
    ).fetchall()


def _open_blob(u: Unlocked, blob: str) -> bytes:
    plaintext, _ = open_bytes(read_blob(u.workspace, blob), [u.key.identity])
    return plaintext
