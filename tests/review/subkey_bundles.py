"""Helpers of the subkey tests: reports sealed to a week's subkey, in a chain of dated bundles.

A server exports on the day it runs, so these bundles, dated as a test needs
(weeks apart), are made here: `seal_report` seals as the server does (envelope
v2 to the week's public subkey), and the bundles are signed with the demo
server's own key, exactly as its exports are. tests/review/keys/test_subkeys_fs.py
goes through the real server instead.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from crypto import HybridPublicKey, Metadata, PrivateKey, PublicKey, SigningKey, seal_bytes
from crypto.encoding import canonical_json
from crypto.exchange import CHAIN_START, ChainLink, ExportEntry, ExportManifest, write_export
from tests.review.support import Server

REPORT = "application/vnd.raazdar.report+json; version=1"
DESIGNATION = "Quiet Heron"


def record(message: str) -> bytes:
    """A report's record as the form makes it."""
    return canonical_json({"fields": {}, "format": 1, "language": "en", "message": message})


def seal_report(message: str, key: HybridPublicKey | PublicKey) -> bytes:
    """A report sealed as a sealer would: v2 to a subkey (or v1 to a long-term X25519 key)."""
    return seal_bytes(record(message), [key], Metadata("report", REPORT))


@dataclass
class Chain:
    """The server's chain of export bundles, each dated as the test says."""

    server: Server
    out: Path
    sequence: int = 0
    previous: bytes = CHAIN_START
    source_key: PublicKey = field(default_factory=lambda: PrivateKey.generate().public_key)

    def bundle(self, envelopes: list[bytes], created: dt.date) -> Path:
        """The next bundle of the chain, made on `created`, holding `envelopes` as reports."""
        self.sequence += 1
        files, entries = [], []
        for data in envelopes:
            path = self.out / f"{secrets.token_hex(8)}.rze"
            path.write_bytes(data)
            files.append(path)
            entries.append(
                ExportEntry(
                    secrets.token_hex(16), secrets.token_hex(16), DESIGNATION, "report", created
                )
            )
        manifest = ExportManifest(
            secrets.token_hex(16),
            self.server.instance_id,
            created,
            1,
            tuple(entries),
            {DESIGNATION: self.source_key} if entries else {},
            ChainLink(self.sequence, self.previous),
        )
        bundle = self.out / f"export-{self.sequence}.rzb"
        signer = SigningKey.from_text(self.server.paths.signing_key.read_text())
        with bundle.open("wb") as dst:
            self.previous = write_export(dst, manifest, files, signer)
        return bundle
