"""Padmé padding (Nikitin et al., PETS 2019): sizes leak at most O(log log n) bits."""

from __future__ import annotations


def padded_size(length: int, floor: int) -> int:
    """Return the Padmé size of `length`, but never less than `floor`."""
    return padme(max(length, floor))


def padme(length: int) -> int:
    """Return the Padmé-padded size for a plaintext of `length` bytes.

    The result keeps the top ⌊log2 ⌊log2 L⌋⌋ + 1 bits of L and rounds the rest
    up, so overhead is at most about 12% and each size class is wide.
    """
    if length < 0:
        raise ValueError("length must not be negative")
    if length < 2:
        return length
    exponent = length.bit_length() - 1  # ⌊log2 L⌋
    size_bits = exponent.bit_length()  # ⌊log2 E⌋ + 1
    last_bits = exponent - size_bits
    mask = (1 << last_bits) - 1
    return (length + mask) & ~mask


_MARK = b"\x80"


def pad(data: bytes, floor: int) -> bytes:
    """Pad `data` to its Padmé size (at least `floor`) with 0x80 then zeros (ISO/IEC 7816-4)."""
    size = padded_size(len(data) + 1, floor)
    return data + _MARK + bytes(size - len(data) - 1)


def unpad(padded: bytes) -> bytes:
    """Undo `pad`; raise `ValueError` if the padding is not there."""
    end = padded.rstrip(b"\x00")
    if not end.endswith(_MARK):
        raise ValueError("padding is malformed")
    return end[:-1]
