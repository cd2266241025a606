"""SealingWriter's life cycle: only `finish()` completes an envelope; anything else aborts."""

from __future__ import annotations

import io

import pytest

from crypto import (
    CryptoError,
    DecryptionError,
    Metadata,
    PrivateKey,
    SealingWriter,
    SigningKey,
    VerificationError,
    open_bytes,
    verify_signature,
)
from crypto import constants as C
from crypto.encoding import b64encode

META = Metadata(kind="file", content_type="application/pdf", filename="report.pdf")
ALICE = PrivateKey(bytes(range(32)))
SIGNER = SigningKey(bytes(range(32, 64)))
SIZES = {
    "nothing": 0,
    "small": 100,
    "one-chunk": C.CHUNK_BYTES,
    "several-chunks": 3 * C.CHUNK_BYTES + 7,
}


class Interrupted(Exception):
    """Stands for whatever stops an upload half way."""


def _write_then_fail(writer: SealingWriter, size: int, error: type[BaseException]) -> None:
    with writer:
        writer.write(bytes(size))
        raise error


@pytest.mark.parametrize("signed", [False, True], ids=["unsigned", "signed"])
@pytest.mark.parametrize("size", SIZES.values(), ids=SIZES)
@pytest.mark.parametrize("error", [Interrupted, KeyboardInterrupt], ids=["exception", "interrupt"])
def test_leaving_the_with_block_by_exception_gives_an_envelope_that_never_opens(
    size: int, signed: bool, error: type[BaseException]
) -> None:
    out = io.BytesIO()
    writer = SealingWriter(out, [ALICE.public_key], META, signer=SIGNER if signed else None)

    with pytest.raises(error):
        _write_then_fail(writer, size, error)

    assert out.getvalue()  # the header was written
    with pytest.raises(DecryptionError):
        open_bytes(out.getvalue(), [ALICE])
    if signed:
        with pytest.raises(VerificationError):
            verify_signature(io.BytesIO(out.getvalue()), [SIGNER.verify_key])


@pytest.mark.parametrize("size", SIZES.values(), ids=SIZES)
def test_close_without_finish_gives_an_envelope_that_never_opens(size: int) -> None:
    out = io.BytesIO()
    writer = SealingWriter(out, [ALICE.public_key], META)
    writer.write(bytes(size))

    writer.close()

    with pytest.raises(DecryptionError):
        open_bytes(out.getvalue(), [ALICE])


def test_abort_gives_an_envelope_that_never_opens() -> None:
    out = io.BytesIO()
    writer = SealingWriter(out, [ALICE.public_key], META)
    writer.write(bytes(2 * C.CHUNK_BYTES + 1))

    writer.abort()

    with pytest.raises(DecryptionError):
        open_bytes(out.getvalue(), [ALICE])


def test_no_byte_is_written_after_an_abort() -> None:
    out = io.BytesIO()
    writer = SealingWriter(out, [ALICE.public_key], META, signer=SIGNER)
    writer.write(bytes(C.CHUNK_BYTES + 5))
    written = out.getvalue()

    writer.close()
    writer.close()

    assert out.getvalue() == written
    with pytest.raises(CryptoError):
        writer.write(b"more")
    with pytest.raises(CryptoError):
        writer.finish()
    assert out.getvalue() == written


def test_leaving_the_with_block_normally_finishes_the_envelope() -> None:
    out = io.BytesIO()

    with SealingWriter(out, [ALICE.public_key], META) as writer:
        writer.write(b"complete")

    assert open_bytes(out.getvalue(), [ALICE])[0] == b"complete"


def test_finish_then_close_keeps_the_envelope_whole() -> None:
    out = io.BytesIO()
    writer = SealingWriter(out, [ALICE.public_key], META, signer=SIGNER)
    writer.write(b"complete")

    result = writer.finish()
    writer.close()

    assert result.length == 8
    assert result.envelope_size == len(out.getvalue())
    assert (
        open_bytes(out.getvalue(), [ALICE], trusted_signers=[SIGNER.verify_key])[0] == b"complete"
    )


def test_a_finished_envelope_takes_no_more_writes() -> None:
    out = io.BytesIO()
    writer = SealingWriter(out, [ALICE.public_key], META)
    writer.finish()
    size = len(out.getvalue())

    with pytest.raises(CryptoError, match="finished"):
        writer.write(b"late")
    with pytest.raises(CryptoError, match="finished"):
        writer.finish()
    assert len(out.getvalue()) == size


def test_writer_is_a_writable_file_object() -> None:
    out = io.BytesIO()
    with SealingWriter(out, [ALICE.public_key], META) as writer:
        assert writer.writable()
        assert writer.write(b"") == 0
        assert writer.write(b"abc") == 3


def test_output_is_written_as_it_goes_not_at_the_end() -> None:
    """Constant memory: each full chunk leaves as soon as more content follows it."""
    out = io.BytesIO()
    writer = SealingWriter(out, [ALICE.public_key], META)
    header = len(out.getvalue())

    writer.write(bytes(C.CHUNK_BYTES))
    assert len(out.getvalue()) == header  # the chunk may still be the last one
    writer.write(b"x")
    assert len(out.getvalue()) == header + C.CHUNK_BYTES + C.STREAM_ABYTES
    writer.write(bytes(3 * C.CHUNK_BYTES))
    assert len(out.getvalue()) == header + 4 * (C.CHUNK_BYTES + C.STREAM_ABYTES)
    writer.abort()


def test_the_header_leaves_before_any_content() -> None:
    out = io.BytesIO()
    SealingWriter(out, [ALICE.public_key], META).abort()

    assert out.getvalue().startswith(b"raazdar-envelope/v1\n-> x25519 ")
    assert b64encode(ALICE.public_key.fingerprint.key_id).encode() in out.getvalue()
