"""An office document built to hang `report view` while it lists what the file says of its maker.

The attack: the viewer reads an office document's property parts (docProps/core.xml,
app.xml, meta.xml, up to 1 MiB each) with a pattern per property that looked for the
tag's end past every other tag. A part of nothing but unclosed "<dc:creator " (a few
hundred bytes zipped) made each one scan to the part's end: 480 KB held the reviewer's
process 11 s, and 1 MiB in each of the three parts for minutes, in `report view`, the
terminal UI and `escalation new` alike.
"""

from __future__ import annotations

import io
import time
import zipfile

import pytest

from review.present import metadata

# What the listing may take on a busy machine; the old one took minutes.
BOUNDED = 3.0
PART = 1024 * 1024  # the most of a part the listing reads


def _package(parts: dict[str, str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("[Content_Types].xml", "<Types/>")
        for name, body in parts.items():
            package.writestr(name, body)
    return out.getvalue()


@pytest.mark.parametrize("tag", ["<dc:creator ", "<Company ", "<meta:initial-creator "])
def test_a_part_of_unclosed_property_tags_is_listed_in_bounded_time(tag: str) -> None:
    body = tag * (PART // len(tag))
    data = _package({"docProps/core.xml": body, "docProps/app.xml": body, "meta.xml": body})
    assert len(data) < 64 * 1024  # what the source sends is small

    started = time.monotonic()
    said = metadata.read(data)
    took = time.monotonic() - started

    assert took < BOUNDED, f"listing the document's properties held the reviewer {took:.1f} s"
    assert said == []


def test_a_property_beside_unclosed_tags_is_still_listed() -> None:
    body = "<dc:creator " * 1000 + "<dc:creator>Imran Qureshi</dc:creator>" + "<Company " * 1000
    assert metadata.read(_package({"docProps/core.xml": body})) == ["author: Imran Qureshi"]
