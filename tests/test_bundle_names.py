"""One name per bundle kind everywhere: export bundles `.rzb`, reply bundles `.rzr`."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# The file named right after a command that writes or reads a bundle.
REPLY_USES = re.compile(r"(?:(?:export-replies|exchange\s+export)\s+--out|import-replies)\s+(\S+)")
EXPORT_USES = re.compile(
    r"(?:raazdar(?:\s+--instance\s+\S+)?\s+export\s+--out|review\s+(?:exchange\s+)?import)\s+(\S+)"
)


def test_every_reply_bundle_the_docs_name_ends_in_rzr() -> None:
    names = [m for doc in DOCUMENTS for m in REPLY_USES.findall(doc.read_text("utf-8"))]
    names = [n.rstrip("`.,;)") for n in names]
    assert names, "the docs name no reply bundle"
    assert [n for n in names if not n.endswith(".rzr")] == []


def test_every_export_bundle_the_docs_name_ends_in_rzb() -> None:
    names = [m for doc in DOCUMENTS for m in EXPORT_USES.findall(doc.read_text("utf-8"))]
    names = [n.rstrip("`.,;)") for n in names]
    assert names, "the docs name no export bundle"
    assert [n for n in names if not n.endswith(".rzb")] == []


def test_the_staff_upload_field_asks_for_a_reply_bundle() -> None:
    template = (ROOT / "app/templates/staff/dashboard.html").read_text("utf-8")
    forms = (ROOT / "app/staff/forms.py").read_text("utf-8")
    assert 'accept=".rzr"' in template
    assert ".rzb" not in template
    assert "Reply bundle (.rzr)" in forms
