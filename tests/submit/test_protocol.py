"""Request proofs as the client makes them: each verifies for its own request, once."""

from __future__ import annotations

from pathlib import Path

import pytest

from crypto import KdfParams, VerificationError, derive_source_keys, generate_codename
from crypto.encoding import b64decode
from crypto.request import body_digest, verify_request
from submit import transport
from submit.errors import ServerError
from submit.protocol import Api
from submit.trust import KeyringDocument
from tests.submit.support import Device, Recorder


def test_every_request_of_a_send_carries_a_proof_that_verifies_for_it_alone(
    device: Device, codename_file: Path, recorder: Recorder, tmp_path: Path
) -> None:
    evidence = tmp_path / "a.bin"
    evidence.write_bytes(b"x" * 5000)
    result = device.run("send", "-m", "hi", "--codename-file", str(codename_file), str(evidence))
    assert result.exit_code == 0, result.output
    doc = KeyringDocument.parse(
        Api(transport.session(None), device.url, timeout=(5.0, 5.0)).keyring()
    )
    keys = derive_source_keys(codename_file.read_text(), doc.salt, doc.kdf)
    signed = [s for s in recorder.seen if "RAAZDAR_SIGNATURE" in s.headers]
    assert [s.method for s in signed] == ["POST", "POST", "PATCH", "POST", "PATCH"]
    challenges = [s.headers["RAAZDAR_CHALLENGE"] for s in signed]
    assert len(set(challenges)) == len(challenges)
    # Only the first needed a round trip for its challenge; the rest came with answers.
    assert recorder.paths("POST").count("/api/v1/challenges") == 1
    for seen in signed:
        assert b64decode(seen.headers["RAAZDAR_SOURCE"]) == keys.lookup_tag
        offset = seen.headers.get("UPLOAD_OFFSET")
        args = (
            seen.headers["RAAZDAR_SIGNATURE"],
            seen.headers["RAAZDAR_CHALLENGE"],
            seen.method,
            seen.path,
            body_digest(seen.body),
            int(offset) if offset is not None else None,
        )
        verify_request(keys.verify_key, *args)
        # The same proof says nothing about another method or another body.
        with pytest.raises(VerificationError):
            verify_request(keys.verify_key, args[0], args[1], "GET", *args[3:])
        with pytest.raises(VerificationError):
            verify_request(keys.verify_key, *args[:4], body_digest(seen.body + b"!"), args[5])


def test_a_refusal_carries_the_servers_status_and_code(server: str) -> None:
    api = Api(transport.session(None), server, timeout=(5.0, 5.0))
    doc = KeyringDocument.parse(api.keyring())
    assert doc.kdf == KdfParams.TESTING
    keys = derive_source_keys(generate_codename(), doc.salt, doc.kdf)
    assert api.ensure_account(keys) is True
    assert api.ensure_account(keys) is False
    with pytest.raises(ServerError) as refused:
        api.upload_offset(keys, "0" * 32)
    assert refused.value.status == 404
    assert api.replies(keys) == []
