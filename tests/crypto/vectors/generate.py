"""Write the crypto known-answer vectors: vectors.json and the envelope files beside it.

Run once, from the repository root, and check the output in:

    .venv/bin/python tests/crypto/vectors/generate.py

The tests only read what this wrote; they never regenerate it. Sealing is
randomised, so the envelope files are fixed ciphertexts that a future version of
the code must still open. Every other value is deterministic; before anything
is written, each value that docs/PROTOCOL.md prints as an example is checked
against it, so the vectors agree with the specification and not only with the
code of the day. An existing vectors.json is kept unless `--force` is given.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import io
import json
import sys
from pathlib import Path
from typing import Any

from crypto import (
    CodenameError,
    KdfParams,
    KeyFile,
    Metadata,
    PrivateKey,
    SigningKey,
    derive_source_keys,
    normalize_codename,
    open_bytes,
    read_header,
    seal_bytes,
)
from crypto import constants as C
from crypto.codename import check_codename, wordlist
from crypto.encoding import b64encode
from crypto.envelope.header import header_mac, payload_key
from crypto.manifest import AuthorityKey, Manifest, Recipient, SignedManifest
from crypto.padding import padded_size, padme

HERE = Path(__file__).resolve().parent

# Fixed key material, as in docs/PROTOCOL.md §4.5 and §8.2.
X25519_SECRET = bytes(range(32))
ED25519_SEED = bytes(range(32, 64))
SECOND_X25519 = bytes([2]) * 32
REVIEWER_SEED = bytes([3]) * 32
AUTHORITY_SEED = bytes([1]) * 32
MULTICHUNK_SEED = b"raazdar envelope vector"

# Examples printed in docs/PROTOCOL.md, checked before writing.
SPEC_X25519_SECRET_TEXT = "rz-x25519-secret:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9KuN_9"
SPEC_X25519_PUBLIC_TEXT = "rz-x25519-public:j0DFrbaPJWJK5bIU6nZ6bslNgp09e14a0bpvPiE4KF_74THb"
SPEC_X25519_FINGERPRINT = "K7SS UKGV N733 TXVB BDXE LMOZ V7P5 6NYN"
SPEC_X25519_KEY_ID = "57e52a28d56ff7b9"
SPEC_ED25519_PUBLIC_TEXT = "rz-ed25519-public:Kay64UG8yvCyLhqU000LxzYeUm0L_hLIl5S8kyKWbdd234IL"
SPEC_ED25519_FINGERPRINT = "WFQJ 7TPA E4XG GBW5 6G3Q 5BPW 2BQW Y5VK"
SPEC_PAYLOAD_KEY = "95d7b7554081284ae2e16472097ae8bf583d03432c0c565ca6ccf9d9256354dc"
SPEC_MAC_KEY = "39d39bbb151d737b2b637e7dfaa01e55aa8c38a135f7060036fdc780a70a05c9"
SPEC_CODENAME_TYPED = (
    "\u00a0 ABACUS\u200b tricky  Prism\tlagoon nectar dwelling sul\u00adfur OUTNUMBER\n"
)
SPEC_LOOKUP_TAG = "2e53b908c8b070311a117e82a1ece495b3ab03ab585dc27ece7269c650b346cc"
SPEC_SOURCE_PUBLIC = "rz-x25519-public:bLnvqphCYEGHU_jMBKiUdmEg6POoNy4b97BSYzz6XQRQwpum"
SPEC_MANIFEST = (
    '{"manifest":{"authority":{"keys":[{"key":"rz-ed25519-public:iojj3XQJ8ZX9UtstPLpdcspnCb8dlBIb83'
    'SIAbQPb1w7sCvb","name":"Admin A"}],"threshold":1},"expires":"2026-01-06","format":1,"issued":'
    '"2025-01-06","previous":null,"recipients":[{"encryption_key":"rz-x25519-public:zo060cy2M-x7cMF'
    '4FKXHbs0CloUFDTRHRboFhw5YfVmkk9rM","id":"reviewer-1","name":"Reviewer One","signing_key":"rz-e'
    'd25519-public:7UkoxijRwsbq6QM4kFmVYSlZJzpcY_k2NsFGFKyHN9HUpVgk"}],"type":"raazdar-keyring","ve'
    'rsion":1},"signatures":[{"key":"JBMMZJEEH25MY3XCOVRRF3TMWEEM45DT","signature":"O7gyZw4tkpl4Oxx'
    'J3W2tYzcxazICd3zDn4kFtfHHZE1IAioz2nhE7bOrA7-BHZEk3J0vESWuS7r1lx82TY9-DA"}]}'
)
SPEC_MANIFEST_DIGEST = "2484e6ac7030c964b304e30fe96acaffd775375d525681c6548628a6d32d91de"
SPEC_KEYFILE = (
    '{"format":1,"kdf":{"alg":"argon2id13","mem":8192,"ops":1},"kind":"reviewer","label":"Reviewe'
    'r One","nonce":"YKQ5YBPlkzaffgBhngDMVkCeCDo1YUto","public":{"ed25519":"rz-ed25519-public:7Uko'
    'xijRwsbq6QM4kFmVYSlZJzpcY_k2NsFGFKyHN9HUpVgk","x25519":"rz-x25519-public:zo060cy2M-x7cMF4FKXH'
    'bs0CloUFDTRHRboFhw5YfVmkk9rM"},"salt":"gbbodhdiTBtNF0xsJH2e7A","sealed":"CldhNypt5MZlVe2J8R1Zc'
    "h2_EPowXI8Q5eWmWG0GGbPls_VeOhN7JT6eWFZlW_BrWPjWy_FTMM_x_gtMzvuEWc1IvUzBVp4qsjSDUR_wvJnX7T27uiNj"
    'ssw00ij27dytruVitu5CKjG6H1peXhCnhIY2cBLVSEhvGmJ7Zz1MGkI","type":"raazdar-keyfile"}\n'
)
SPEC_PADME = [(9, 10), (100, 104), (129, 144), (1000, 1024), (4097, 4352), (65544, 67584)]
SPEC_PADME += [(1_000_000, 1_015_808), (10_000_000, 10_223_616)]


def check(value: object, expected: object, what: str) -> None:
    """Stop if the code and the specification disagree."""
    if value != expected:
        sys.exit(f"generate.py: {what}: code gives {value!r}, PROTOCOL.md says {expected!r}")


def key_vectors() -> dict[str, Any]:
    enc = PrivateKey(X25519_SECRET)
    sig = SigningKey(ED25519_SEED)
    check(enc.to_text(), SPEC_X25519_SECRET_TEXT, "X25519 secret text")
    check(enc.public_key.to_text(), SPEC_X25519_PUBLIC_TEXT, "X25519 public text")
    check(str(enc.public_key.fingerprint), SPEC_X25519_FINGERPRINT, "X25519 fingerprint")
    check(enc.public_key.fingerprint.key_id.hex(), SPEC_X25519_KEY_ID, "key id")
    check(sig.verify_key.to_text(), SPEC_ED25519_PUBLIC_TEXT, "Ed25519 public text")
    check(str(sig.verify_key.fingerprint), SPEC_ED25519_FINGERPRINT, "Ed25519 fingerprint")
    x25519 = []
    for secret in (X25519_SECRET, SECOND_X25519):
        key = PrivateKey(secret)
        fp = key.public_key.fingerprint
        x25519.append(
            {
                "secret_hex": secret.hex(),
                "secret_text": key.to_text(),
                "public_hex": key.public_key.raw.hex(),
                "public_text": key.public_key.to_text(),
                "fingerprint": str(fp),
                "fingerprint_hex": fp.raw.hex(),
                "key_id_hex": fp.key_id.hex(),
                "key_id_b64": b64encode(fp.key_id),
            }
        )
    ed25519 = []
    for seed in (ED25519_SEED, REVIEWER_SEED):
        signing = SigningKey(seed)
        ed25519.append(
            {
                "seed_hex": seed.hex(),
                "secret_text": signing.to_text(),
                "public_hex": signing.verify_key.raw.hex(),
                "public_text": signing.verify_key.to_text(),
                "fingerprint": str(signing.verify_key.fingerprint),
                "signatures": [
                    {
                        "context": context.decode(),
                        "message_hex": message.hex(),
                        "signature_hex": signing.sign(context, message).hex(),
                    }
                    for context, message in [
                        (C.SIG_CONTEXT_ENVELOPE, bytes(64)),
                        (C.SIG_CONTEXT_MANIFEST, b"{}"),
                        (C.SIG_CONTEXT_BUNDLE, b""),
                    ]
                ],
            }
        )
    return {"x25519": x25519, "ed25519": ed25519}


def padme_vectors() -> dict[str, Any]:
    for length, padded in SPEC_PADME:
        check(padme(length), padded, f"Padmé({length})")
    lengths = [0, 1, 2, 3, 5, 8, 9, 15, 16, 17, 100, 129, 255, 256, 1000, 4095, 4096, 4097]
    lengths += [65535, 65536, 65537, 65544, 10**6, 10**7, 2**30 + 1, 10**12]
    floors = [(0, 4096), (4021, 4096), (4096, 4096), (4097, 4096), (65612, 4096), (5, 1)]
    return {
        "padme": [[n, padme(n)] for n in lengths],
        "padded_size": [[n, floor, padded_size(n, floor)] for n, floor in floors],
    }


def codename_vectors() -> dict[str, Any]:
    words = wordlist()
    seven = [
        ["abacus", "tricky", "prism", "lagoon", "nectar", "dwelling", "sulfur"],
        ["t-shirt", "yo-yo", "drop-down", "felt-tip", "zoom", "abacus", "zoom"],
        [words[0]] * 7,
        [words[-1]] * 7,
    ]
    checksums: list[dict[str, Any]] = []
    for chosen in seven:
        digest = hashlib.blake2b(
            " ".join(chosen).encode(), digest_size=8, person=C.PERSON_CODENAME_CHECK
        ).digest()
        codename = " ".join(chosen)
        word = next(w for w in words if _checks(f"{codename} {w}"))
        checksums.append({"words": chosen, "digest_hex": digest.hex(), "checksum_word": word})
    check(checksums[0]["digest_hex"], "bb00e21736b194f0", "codename checksum digest")
    check(checksums[0]["checksum_word"], "outnumber", "codename checksum word")

    derivations: list[dict[str, Any]] = []
    cases = [
        (SPEC_CODENAME_TYPED, bytes(16), KdfParams.TESTING),
        (
            "T-SHIRT yo\u2011yo drop\u2212down felt-tip zoom abacus zoom "
            + checksums[1]["checksum_word"],
            bytes(range(16)),
            KdfParams.TESTING,
        ),
        (
            "abacus tricky prism lagoon nectar dwelling sulfur outnumber",
            bytes(range(16)),
            KdfParams.INTERACTIVE,
        ),
    ]
    for typed, salt, params in cases:
        keys = derive_source_keys(typed, salt, params)
        derivations.append(
            {
                "typed": typed,
                "normalized": normalize_codename(typed),
                "salt_hex": salt.hex(),
                "kdf": params.to_dict(),
                "lookup_tag_hex": keys.lookup_tag.hex(),
                "secret_text": keys.private_key.to_text(),
                "public_text": keys.public_key.to_text(),
            }
        )
    check(derivations[0]["lookup_tag_hex"], SPEC_LOOKUP_TAG, "source lookup tag")
    check(derivations[0]["public_text"], SPEC_SOURCE_PUBLIC, "source public key")
    wordlist_file = HERE.parents[2] / "crypto" / "data" / "eff_large_wordlist.txt"
    return {
        "wordlist_sha256": hashlib.sha256(wordlist_file.read_bytes()).hexdigest(),
        "checksums": checksums,
        "derivations": derivations,
    }


def _checks(codename: str) -> bool:
    try:
        check_codename(codename)
    except CodenameError:
        return False
    return True


def header_vectors() -> dict[str, Any]:
    file_key = bytes(range(32))
    mac_key = hashlib.blake2b(b"", digest_size=32, key=file_key, person=C.PERSON_HEADER_MAC_KEY)
    check(payload_key(file_key).hex(), SPEC_PAYLOAD_KEY, "payload key")
    check(mac_key.hexdigest(), SPEC_MAC_KEY, "header MAC key")
    mac_input = b"raazdar-envelope/v1\n-> x25519 V-UqKNVv97k\n" + b"A" * 107 + b"\n---"
    stream_header = bytes(range(100, 124))
    return {
        "file_key_hex": file_key.hex(),
        "payload_key_hex": payload_key(file_key).hex(),
        "mac_key_hex": mac_key.hexdigest(),
        "mac_input_hex": mac_input.hex(),
        "stream_header_hex": stream_header.hex(),
        "header_mac_hex": header_mac(file_key, mac_input, stream_header).hex(),
    }


def _recipient(rid: str, name: str, enc: bytes, sig: bytes) -> Recipient:
    return Recipient(
        id=rid,
        name=name,
        encryption_key=PrivateKey(enc).public_key,
        signing_key=SigningKey(sig).verify_key,
    )


def manifest_vectors() -> dict[str, Any]:
    authority = SigningKey(AUTHORITY_SEED)
    spec = Manifest(
        version=1,
        previous=None,
        issued=dt.date(2025, 1, 6),
        expires=dt.date(2026, 1, 6),
        threshold=1,
        authorities=(AuthorityKey(name="Admin A", key=authority.verify_key),),
        recipients=(_recipient("reviewer-1", "Reviewer One", SECOND_X25519, REVIEWER_SEED),),
    )
    signed = SignedManifest(spec).sign(authority)
    check(signed.to_bytes().decode(), SPEC_MANIFEST, "signed manifest")
    check(spec.digest().hex(), SPEC_MANIFEST_DIGEST, "manifest digest")

    old = [SigningKey(bytes([0x11 + i]) * 32) for i in range(3)]
    new = [SigningKey(bytes([0x21 + i]) * 32) for i in range(3)]
    v1 = Manifest(
        version=1,
        previous=None,
        issued=dt.date(2025, 1, 6),
        expires=dt.date(2026, 1, 6),
        threshold=2,
        authorities=tuple(
            AuthorityKey(name=f"Admin {c}", key=k.verify_key)
            for c, k in zip("ABC", old, strict=True)
        ),
        recipients=(
            _recipient("reviewer-1", "Reviewer One", SECOND_X25519, REVIEWER_SEED),
            _recipient("reviewer-2", "جائزہ کار دو", bytes([5]) * 32, bytes([6]) * 32),
        ),
    )
    v2 = v1.successor(
        issued=dt.date(2025, 3, 1),
        expires=dt.date(2026, 3, 1),
        authorities=[
            AuthorityKey(name=f"Admin {c}", key=k.verify_key)
            for c, k in zip("DEF", new, strict=True)
        ],
    )
    v3 = v2.successor(
        issued=dt.date(2025, 4, 1), expires=dt.date(2026, 4, 1), recipients=v2.recipients[:1]
    )
    chain = [
        _sign(v1, old[0], old[2]),
        _sign(v2, old[0], old[1], new[1], new[2]),
        _sign(v3, new[0], new[1]),
    ]
    return {
        "single": {
            "authority_seed_hex": AUTHORITY_SEED.hex(),
            "signed": signed.to_bytes().decode(),
            "canonical": spec.canonical_bytes().decode(),
            "digest_hex": spec.digest().hex(),
            "signature_hex": signed.signatures[0][1].hex(),
            "pinned": [str(authority.verify_key.fingerprint)],
        },
        "rotation_chain": {
            "pinned": sorted(str(k.verify_key.fingerprint) for k in old),
            "today": "2025-06-01",
            "links": [
                {
                    "signed": s.to_bytes().decode(),
                    "digest_hex": s.manifest.digest().hex(),
                }
                for s in chain
            ],
        },
    }


def _sign(manifest: Manifest, *keys: SigningKey) -> SignedManifest:
    signed = SignedManifest(manifest)
    for key in keys:
        signed = signed.sign(key)
    return signed


def keyfile_vectors() -> dict[str, Any]:
    keyfile = KeyFile.from_bytes(SPEC_KEYFILE.encode())
    keys = keyfile.unlock("correct horse")
    check(keys.encryption, PrivateKey(SECOND_X25519), "key file X25519 key")
    check(keys.signing, SigningKey(REVIEWER_SEED), "key file Ed25519 key")
    check(keyfile.to_bytes().decode(), SPEC_KEYFILE, "key file bytes")
    return {
        "file": SPEC_KEYFILE,
        "passphrase": "correct horse",
        "x25519_secret_hex": SECOND_X25519.hex(),
        "ed25519_seed_hex": REVIEWER_SEED.hex(),
    }


def _metadata_dict(metadata: Metadata) -> dict[str, Any]:
    return {
        "kind": metadata.kind,
        "content_type": metadata.content_type,
        "filename": metadata.filename,
    }


def envelope_vectors() -> list[dict[str, Any]]:
    alice, bob = PrivateKey(X25519_SECRET), PrivateKey(SECOND_X25519)
    signer = SigningKey(ED25519_SEED)
    multichunk = hashlib.shake_256(MULTICHUNK_SEED).digest(2 * C.CHUNK_BYTES - 10)
    cases: list[
        tuple[str, bytes, dict[str, Any], list[PrivateKey], Metadata, SigningKey | None]
    ] = [
        (
            "envelope-small.rze",
            "راز دار: a short report in Urdu and English.\n".encode(),
            {"utf8": "راز دار: a short report in Urdu and English.\n"},
            [alice],
            Metadata(kind="message", content_type="text/plain; charset=utf-8"),
            None,
        ),
        (
            "envelope-multichunk.rze",
            multichunk,
            {"shake256_of": MULTICHUNK_SEED.decode(), "length": len(multichunk)},
            [alice, bob],
            Metadata(kind="file", content_type="application/pdf", filename="رپورٹ ۲۰۲۴.pdf"),
            None,
        ),
        (
            "envelope-signed.rze",
            b"Assalam-o-alaikum",
            {"utf8": "Assalam-o-alaikum"},
            [alice, bob],
            Metadata(kind="reply", content_type="text/plain; charset=utf-8"),
            signer,
        ),
    ]
    out = []
    for name, plaintext, described, recipients, metadata, signing in cases:
        envelope = seal_bytes(
            plaintext, [r.public_key for r in recipients], metadata, signer=signing
        )
        for recipient in recipients:
            opened, info = open_bytes(envelope, [recipient])
            if opened != plaintext or info.metadata != metadata:
                sys.exit(f"generate.py: {name} does not open to what was sealed")
        (HERE / name).write_bytes(envelope)
        header = read_header(io.BytesIO(envelope))
        out.append(
            {
                "file": name,
                "identities": [r.to_text() for r in recipients],
                "signer": signing.verify_key.to_text() if signing is not None else None,
                "plaintext": described,
                "plaintext_sha256": hashlib.sha256(plaintext).hexdigest(),
                "length": len(plaintext),
                "metadata": _metadata_dict(metadata),
                "header_bytes": len(header.raw),
                "size": len(envelope),
                "envelope_sha256": hashlib.sha256(envelope).hexdigest(),
            }
        )
    check(out[2]["header_bytes"], 383, "signed two-recipient header size")
    check(out[2]["size"], 4584, "signed two-recipient envelope size")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="overwrite existing vectors")
    args = parser.parse_args()
    target = HERE / "vectors.json"
    if target.exists() and not args.force:
        sys.exit("generate.py: vectors.json exists; the checked-in vectors are the reference")
    vectors = {
        "comment": "Known answers for crypto/; written by generate.py, read by test_vectors.py.",
        "keys": key_vectors(),
        "padding": padme_vectors(),
        "codename": codename_vectors(),
        "envelope_keys": header_vectors(),
        "manifest": manifest_vectors(),
        "keyfile": keyfile_vectors(),
        "envelopes": envelope_vectors(),
    }
    target.write_text(json.dumps(vectors, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {target} and {len(vectors['envelopes'])} envelopes")


if __name__ == "__main__":
    main()
