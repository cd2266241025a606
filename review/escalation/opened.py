"""What a body gets from `bodies open`: a packet's contents as files people can read.

The contents go to a temporary directory beside the target, renamed into place
only once everything is written, so a reader never finds half a packet; what a
failed attempt wrote is overwritten before it is removed, and what one killed
outright wrote, by the next command that writes plaintext out.
"""

from __future__ import annotations

import json
import os
import tempfile
import unicodedata
from pathlib import Path

from crypto.packet import OpenedPacket
from review import bidi
from review.casework import writing
from review.workspace.erase import destroy_tree


def write_opened(opened: OpenedPacket, out: Path) -> None:
    """Write the contents to a temporary directory beside `out`, renamed into place when whole."""
    # Noted while it writes: killed outright, no `finally` runs, and the next writer
    # destroys the part (`review.casework.writing`).
    with writing.noted(out):
        _write(opened, out)


def _write(opened: OpenedPacket, out: Path) -> None:
    content = opened.content
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent))
    try:
        text = render(content.document, [f.name for f in content.files])
        signers = "\n".join(
            f"{'author' if i == 0 else 'countersigner'}: {k.to_text()} ({k.fingerprint})"
            for i, k in enumerate(opened.signers)
        )
        header = f"Packet {content.packet_id}, made {content.created}\n{signers}\n\n"
        write_new(tmp / "packet.txt", (header + text).encode("utf-8"))
        document = json.dumps(content.document, ensure_ascii=False, indent=2, sort_keys=True)
        write_new(tmp / "packet.json", document.encode("utf-8"))
        (tmp / "files").mkdir(mode=0o700)
        for f in content.files:
            write_new(tmp / "files" / f.name, f.data)
        os.rename(tmp, out)
    except BaseException:
        # Overwritten first: removed as they were, the files written would stay in the blocks.
        destroy_tree(tmp)
        raise


def render(document: dict[str, object], files: list[str]) -> str:
    """A packet's document as plain text for people to read."""
    lines: list[str] = []
    body = document.get("body")
    if isinstance(body, dict):
        lines.append(f"To: {body.get('name')} ({body.get('jurisdiction')})")
    lines += ["", "SUMMARY", str(document.get("summary", "")), ""]
    for report in _list(document.get("reports")):
        lines += [f"{report.get('label')} (received {report.get('received')})"]
        lines += [str(report.get("text", ""))]
        fields = report.get("fields")
        if isinstance(fields, dict):
            lines += [f"  {k}: {v}" for k, v in fields.items()]
        if report.get("files"):
            lines += [f"  files: {', '.join(str(f) for f in _list_str(report.get('files')))}"]
        lines.append("")
    corroboration = _list(document.get("corroboration"))
    if corroboration:
        lines.append("CORROBORATION")
        for entry in corroboration:
            reports = ", ".join(_list_str(entry.get("reports")))
            # A packet counts writers only where its reviewer chose to (REVIEW.md).
            writers = f", from {entry['sources']} source(s)" if "sources" in entry else ""
            lines.append(
                f"  {entry.get('kind')} {entry.get('name')}: in {reports}"
                f" and {entry.get('other_reports')} other report(s){writers},"
                f" {entry.get('first')} to {entry.get('last')}"
            )
        lines.append("")
    pseudonyms = _list(document.get("pseudonyms"))
    if pseudonyms:
        names = ", ".join(str(p.get("pseudonym")) for p in pseudonyms)
        lines += ["Names and details replaced to protect people: " + names, ""]
    for entry in _list(document.get("files")):
        if entry.get("metadata_removed") is False:
            lines.append(f"NOTE: {entry.get('name')} is as the source sent it (metadata kept)")
    if files:
        lines.append(f"Files: {', '.join(files)}")
    return _printable("\n".join(lines))


def _list(value: object) -> list[dict[str, object]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _list_str(value: object) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def write_new(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as dst:
        dst.write(data)
        dst.flush()
        os.fsync(dst.fileno())


def _printable(text: str) -> str:
    """No control characters but newlines and tabs, and no explicit bidi embedding, override
    or isolate (the reviewers' screens drop them too): reports come from anyone."""
    return "".join(
        "\ufffd" if unicodedata.category(ch) == "Cc" and ch not in "\n\t" else ch
        for ch in text
        if unicodedata.bidirectional(ch) not in bidi.EXPLICIT
    )
