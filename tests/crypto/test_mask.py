"""The mask over an unfinished upload's envelopes on a device (crypto/mask.py)."""

from __future__ import annotations

import pytest

from crypto.errors import FormatError
from crypto.mask import masked, new_mask_key


def test_a_range_unmasks_on_its_own_and_streams_differ() -> None:
    key, data = new_mask_key(), bytes(range(256)) * 40
    whole = masked(key, 3, 0, data)
    assert whole != data
    for start, end in ((0, 1), (63, 65), (64, 128), (1000, 4321), (5000, len(data))):
        assert masked(key, 3, start, whole[start:end]) == data[start:end]
    assert masked(key, 4, 0, data) != whole
    assert masked(new_mask_key(), 3, 0, data) != whole


def test_a_bad_key_or_offset_is_refused() -> None:
    with pytest.raises(FormatError):
        masked(b"short", 0, 0, b"x")
    with pytest.raises(FormatError):
        masked(new_mask_key(), 0, -1, b"x")
