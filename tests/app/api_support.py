"""A client of the submission API for the tests: it derives, seals and signs as a device would.

It talks to the app through Flask's test client but builds every request as the
real client must (docs/PROTOCOL.md §16): keys derived from the codename with the
instance's published salt and KDF, the keyring checked against pinned authority
fingerprints, envelopes sealed locally, each request signed over a challenge.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from crypto import (
    Fingerprint,
    KdfParams,
    Manifest,
    Metadata,
    SignedManifest,
    SigningKey,
    SourceKeys,
    derive_source_keys,
    generate_codename,
    seal_bytes,
    verify_chain,
)
from crypto import constants as C
from crypto.encoding import b64decode, b64encode, canonical_json
from crypto.hybrid import HybridPublicKey
from crypto.keys import PublicKey
from crypto.request import body_digest, sign_request
from crypto.subkeys import SignedSubkeyList, requires_subkeys, sealing_keys

API = "/api/v1"
REPORT_TYPE = "application/vnd.raazdar.report+json; version=1"


def item_hash(envelope: bytes) -> str:
    """The hash an upload declares: BLAKE2b-256 as bundles hash their items."""
    return b64encode(
        hashlib.blake2b(envelope, digest_size=32, person=C.PERSON_BUNDLE_ITEM).digest()
    )


class BodyRecorder:
    """WSGI middleware that keeps a copy of every request body the server is handed."""

    def __init__(self, wsgi_app: Any) -> None:
        self._wsgi_app = wsgi_app
        self.bodies: list[bytes] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        import io

        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        self.bodies.append(body)
        environ["wsgi.input"] = io.BytesIO(body)
        return self._wsgi_app(environ, start_response)


@dataclass
class ApiClient:
    """One source's device: its codename stays here; only derived values and ciphertext go."""

    client: FlaskClient
    pinned: frozenset[Fingerprint]
    codename: str = field(default_factory=generate_codename)
    challenge: str | None = None
    _keys: SourceKeys | None = None
    _manifest: Manifest | None = None
    _subkeys: dict[str, SignedSubkeyList] = field(default_factory=dict)

    # -- the protocol -----------------------------------------------------

    def keyring(self) -> Manifest:
        """Fetch the keyring and verify it against the pinned authorities; derive the keys."""
        response = self.client.get(f"{API}/keyring")
        assert response.status_code == 200, response.get_data(as_text=True)
        doc = response.get_json()
        chain = [SignedManifest.from_bytes(canonical_json(m)) for m in doc["manifests"]]
        self._manifest = verify_chain(self.pinned, chain, dt.datetime.now(dt.UTC).date())
        self._subkeys = {
            rid: SignedSubkeyList.from_bytes(canonical_json(body))
            for rid, body in doc.get("subkeys", {}).items()
        }
        if self._keys is None:
            kdf = KdfParams.from_dict(doc["codename"]["kdf"])
            salt = b64decode(doc["codename"]["salt"], length=16)
            self._keys = derive_source_keys(self.codename, salt, kdf)
        return self._manifest

    @property
    def keys(self) -> SourceKeys:
        """The keys derived from the codename (after `keyring`)."""
        if self._keys is None:
            self.keyring()
        assert self._keys is not None
        return self._keys

    @property
    def manifest(self) -> Manifest:
        """The verified keyring in force."""
        if self._manifest is None:
            self.keyring()
        assert self._manifest is not None
        return self._manifest

    def new_challenge(self) -> str:
        """Ask for a challenge (the next one usually comes with the last answer)."""
        response = self.client.post(f"{API}/challenges")
        assert response.status_code == 200, response.get_data(as_text=True)
        token: str = response.get_json()["challenge"]
        return token

    def headers(
        self,
        method: str,
        path: str,
        body: bytes = b"",
        *,
        offset: int | None = None,
        signer: SigningKey | None = None,
        challenge: str | None = None,
        tag: bytes | None = None,
    ) -> dict[str, str]:
        """The proof headers for one request, spending the challenge held."""
        if challenge is None:
            challenge, self.challenge = self.challenge or self.new_challenge(), None
        proof = sign_request(
            signer or self.keys.signing_key, challenge, method, path, body_digest(body), offset
        )
        headers = {
            "Raazdar-Source": b64encode(tag if tag is not None else self.keys.lookup_tag),
            "Raazdar-Challenge": challenge,
            "Raazdar-Signature": proof,
        }
        if offset is not None:
            headers["Upload-Offset"] = str(offset)
        return headers

    def send(
        self,
        method: str,
        path: str,
        body: bytes = b"",
        *,
        content_type: str | None = None,
        headers: dict[str, str] | None = None,
        offset: int | None = None,
    ) -> TestResponse:
        """Sign and send a request; keep the next challenge the answer brings."""
        sent = headers if headers is not None else self.headers(method, path, body, offset=offset)
        response = self.client.open(
            path, method=method, data=body, content_type=content_type, headers=sent
        )
        self.challenge = response.headers.get("Raazdar-Next-Challenge")
        return response

    def send_json(self, method: str, path: str, value: Any) -> TestResponse:
        """Send a JSON body."""
        return self.send(method, path, json.dumps(value).encode(), content_type="application/json")

    def register(self) -> TestResponse:
        """Create the account from the derived tag and public keys."""
        body = {
            "lookup_tag": b64encode(self.keys.lookup_tag),
            "public_key": self.keys.public_key.to_text(),
            "signing_key": self.keys.verify_key.to_text(),
        }
        return self.send_json("POST", f"{API}/sources", body)

    # -- what the client does with it -------------------------------------

    def sealing_keys(self) -> list[PublicKey] | list[HybridPublicKey]:
        """The keys the verified keyring says to seal to today (format 3: the week's subkeys)."""
        if requires_subkeys(self.manifest):
            return list(sealing_keys(self.manifest, self._subkeys, dt.datetime.now(dt.UTC).date()))
        return [r.encryption_key for r in self.manifest.recipients]

    def seal(self, plaintext: bytes, metadata: Metadata) -> bytes:
        """Seal to the recipients of the verified keyring, as `raazdar-submit` does."""
        return seal_bytes(plaintext, self.sealing_keys(), metadata)

    def start_upload(
        self, envelope: bytes, *, kind: str = "report", submission: str | None = None
    ) -> TestResponse:
        """Declare an envelope."""
        body = {
            "size": len(envelope),
            "hash": item_hash(envelope),
            "kind": kind,
            "submission": submission or secrets.token_hex(16),
        }
        return self.send_json("POST", f"{API}/uploads", body)

    def patch(self, upload: str, offset: int, chunk: bytes) -> TestResponse:
        """Send one chunk at `offset`."""
        return self.send(
            "PATCH",
            f"{API}/uploads/{upload}",
            chunk,
            content_type="application/offset+octet-stream",
            offset=offset,
        )

    def offset(self, upload: str) -> TestResponse:
        """Ask how far an upload has got."""
        return self.send("HEAD", f"{API}/uploads/{upload}")

    def upload(
        self,
        envelope: bytes,
        *,
        kind: str = "report",
        submission: str | None = None,
        chunk: int = 1024 * 1024,
    ) -> str:
        """Upload a whole envelope in chunks; return the item id it is stored under."""
        started = self.start_upload(envelope, kind=kind, submission=submission)
        assert started.status_code == 201, started.get_data(as_text=True)
        upload: str = started.get_json()["upload"]
        offset = 0
        result: dict[str, Any] = {}
        while offset < len(envelope):
            response = self.patch(upload, offset, envelope[offset : offset + chunk])
            assert response.status_code == 200, response.get_data(as_text=True)
            result = response.get_json()
            offset = result["offset"]
        assert result["complete"] is True
        item: str = result["item"]
        return item

    def submit(self, message: str, files: Iterable[tuple[str, bytes]] = ()) -> list[str]:
        """Seal a report and files locally and upload them as one submission."""
        submission = secrets.token_hex(16)
        report = json.dumps(
            {"format": 1, "message": message, "fields": {}, "language": "en"}, ensure_ascii=False
        ).encode()
        items = [
            self.upload(self.seal(report, Metadata("report", REPORT_TYPE)), submission=submission)
        ]
        for name, content in files:
            envelope = self.seal(content, Metadata("file", "application/octet-stream", name))
            items.append(self.upload(envelope, kind="file", submission=submission))
        return items
