"""What the CLI and the terminal UI both show, drawn alike: safe text, a report's row and facts.

Reports come from anyone, so everything drawn goes through `safe`: never rich
markup, never a control character. Urdu is laid out by `prose` (`review.bidi`).
"""

from __future__ import annotations

import re
import sqlite3
import sys
import unicodedata
from typing import Final

from rich.cells import cell_len
from rich.text import Text

from review import bidi
from review.casework import replies, triage
from review.errors import NotFound, ReviewError
from review.workspace.state import State

DANGER: Final = "DANGER TO LIFE"
# Beside a report's status wherever it is listed: its source's reply key is disputed.
DISPUTED: Final = "source disputed: no reply"


# Characters no terminal, editor or viewer draws that spell out text any program reads:
# Unicode's tags (U+E0020-E007E: ASCII, one for one) and the variation selectors supplement
# (U+E0100-E01EF: a byte each). Shown as U+FFFD, so a reviewer sees something is there, and
# a packet carries the same marks, never the hidden text (`escalation.redaction`).
HIDDEN: Final = re.compile("[\U000e0000-\U000e01ef]")


def clean(text: str) -> str:
    """Text safe for a terminal: no control characters but line breaks and tabs, and no
    explicit bidi embedding, override or isolate, which would steer the rest of its line
    (a table's other cells) on a terminal that lays out right-to-left text; hidden text
    (`HIDDEN`) marked."""
    return "".join(
        "\ufffd"
        if (unicodedata.category(ch) == "Cc" and ch not in "\n\t")
        or "\U000e0000" <= ch <= "\U000e01ef"
        else ch
        for ch in text
        if unicodedata.bidirectional(ch) not in bidi.EXPLICIT
    )


RTL_MODES: Final = ("visual", "logical")

# The most of one text a source wrote that is drawn at once: more than the browser's form
# takes (200,000 characters), so no form's report is cut. Laying text out costs about 8 s
# and 55 MB a million characters, and a report sealed on a source's own device may hold a
# hundred million; `report show --from` reads on.
SHOWN_MAX: Final = 256 * 1024


def excerpt(text: str, num: int, start: int = 0) -> tuple[str, list[str]]:
    """At most `SHOWN_MAX` characters of report `num`'s text from `start`, and what to say
    of those left out."""
    if start and start >= len(text):
        return "", [f"(all {len(text):,} of its characters come before character {start:,})"]
    part = text[start : start + SHOWN_MAX]
    said = [f"(from character {start:,} of {len(text):,})"] if start else []
    if start + len(part) < len(text):
        said.append(
            f"!! {len(text) - start - len(part):,} more characters are not shown:"
            f" `raazdar-review report show {num} --from {start + len(part)}` shows the next part"
        )
    return part, said


def reorders(rtl: str | None) -> bool:
    """Whether --rtl (or, left out, a terminal rather than a pipe) asks for visual order."""
    return (rtl or ("visual" if sys.stdout.isatty() else "logical")) == "visual"


def prose(value: object, width: int, *, reorder: bool) -> Text:
    """Untrusted text as the UI's report view draws it: wrapped, Urdu reordered, right-aligned."""
    lines = []
    for line in bidi.layout(safe(value).plain, width, reorder=reorder):
        gap = max(width - cell_len(line.text), 0)
        lines.append(" " * gap + line.text if line.rtl else line.text)
    return Text("\n".join(lines), no_wrap=True, overflow="ignore")


def safe(value: object, style: str = "") -> Text:
    """Text for the terminal: never markup, and no control characters.

    Reports come from anyone: an escape sequence in a message must not reach the
    reviewer's terminal, nor brackets be read as rich markup.
    """
    return Text(clean(str(value)), style=style)


def row_cells(row: triage.ReportRow) -> list[Text]:
    """A report's line in the inbox, the same in `list` and the terminal UI."""
    s = row.state
    severity = safe(DANGER, "bold red") if s.danger else safe(s.severity or "")
    if s.danger and s.severity:
        severity.append(f" ({s.severity})")
    status = f"{s.status} ({s.reason})" if s.reason else s.status
    missing = ", text missing" if row.text_missing else ""
    items = f"{row.items}" + (f" ({row.unreadable} unreadable{missing})" if row.unreadable else "")
    rest = (
        s.category,
        s.shown("agency"),
        s.shown("district"),
        s.assignee,
        ", ".join(s.tags),
        items,
    )
    shown = safe(status)
    if row.disputed:
        shown.append(f", {DISPUTED}", "bold red")
    return [safe(row.num), safe(row.day.isoformat()), shown, severity] + [
        safe(cell or "") for cell in rest
    ]


# The columns of `row_cells`.
ROW_COLUMNS: Final = (
    "#",
    "day",
    "status",
    "severity",
    "category",
    "agency",
    "district",
    "assignee",
    "tags",
    "items",
)


def dispute(conn: sqlite3.Connection, num: int) -> str | None:
    """What `show` and the UI say above a report whose source's reply key is disputed."""
    try:
        replies.refuse_disputed(conn, num)
    except NotFound:
        raise
    except ReviewError as exc:
        return f"!! {exc}"
    return None


def reply_state(exported_in: str | None, disputed: bool) -> str:
    """Where a reply is: sent in a bundle, queued, or held for good (its source is disputed)."""
    if exported_in:
        return f"sent in {exported_in[:8]}"
    return "held: never sent, its source is disputed" if disputed else "queued"


def report_facts(s: State) -> list[str]:
    """A report's triage state as `key: value` lines, the same in `show` and the UI."""
    facts = {
        "status": f"{s.status} ({s.reason})" if s.reason else s.status,
        "severity": s.severity,
        "assignee": s.assignee,
        "category": s.category,
        "agency": s.shown("agency"),
        "district": s.shown("district"),
        "tags": ", ".join(s.tags),
        "linked": ", ".join(str(n) for n in s.links),
    }
    return [f"{key}: {value}" for key, value in facts.items() if value]
