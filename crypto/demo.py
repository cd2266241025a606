"""A short demonstration of the envelope, codename and keyring formats."""

from __future__ import annotations

import datetime as dt

from crypto import (
    AuthorityKey,
    KdfParams,
    KeyPair,
    Manifest,
    Metadata,
    Recipient,
    SignedManifest,
    derive_source_keys,
    generate_codename,
    open_bytes,
    seal_bytes,
    verify_initial,
)


def main() -> None:
    """Seal a message to a reviewer, open it, and verify a 2-of-3 signed keyring."""
    today = dt.date.today()
    reviewer = KeyPair.generate()
    authority = [KeyPair.generate(encryption=False) for _ in range(3)]
    signing_keys = [a.signing for a in authority if a.signing is not None]
    manifest = Manifest(
        version=1,
        previous=None,
        issued=today,
        expires=today + dt.timedelta(days=365),
        threshold=2,
        authorities=tuple(
            AuthorityKey(f"Authority {i + 1}", k.verify_key) for i, k in enumerate(signing_keys)
        ),
        recipients=(
            Recipient(
                "demo-reviewer",
                "Demo reviewer",
                reviewer.encryption_public,  # type: ignore[arg-type]
                reviewer.signing_public,  # type: ignore[arg-type]
            ),
        ),
    )
    signed = SignedManifest(manifest).sign(signing_keys[0]).sign(signing_keys[2])
    pinned = [k.verify_key.fingerprint for k in signing_keys]
    verify_initial(SignedManifest.from_bytes(signed.to_bytes()), pinned, today)
    print("keyring v1 verified: 2 of 3 authority signatures")

    codename = generate_codename()
    source = derive_source_keys(codename, b"\x00" * 16, KdfParams.INTERACTIVE)
    print(f"codename (demo only, never shown twice): {codename}")
    print(f"source public key fingerprint: {source.public_key.fingerprint}")

    text = "A demonstration report: no real names here.".encode()
    envelope = seal_bytes(
        text,
        [r.encryption_key for r in manifest.recipients],
        Metadata("message", "text/plain; charset=utf-8"),
    )
    assert reviewer.encryption is not None  # noqa: S101 - generated above
    plaintext, opened = open_bytes(envelope, [reviewer.encryption])
    print(
        f"sealed {len(text)} bytes into a {len(envelope)}-byte envelope; opened: {plaintext.decode()!r}"
    )


if __name__ == "__main__":
    main()
