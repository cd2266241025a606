"""Every format constant and derivation label of Raazdar's cryptography, in one place.

`docs/PROTOCOL.md` specifies each of them; a change here is a change of format.
"""

from __future__ import annotations

from typing import Final

# Key text encodings: a type prefix, then base64url (no padding) of the key
# bytes followed by a 4-byte checksum, so that one kind of key can never be
# read as another and a mangled copy is detected.
KEY_PREFIX_X25519_PUBLIC: Final = "rz-x25519-public:"
KEY_PREFIX_X25519_SECRET: Final = "rz-x25519-secret:"  # noqa: S105 - a prefix, not a secret
KEY_PREFIX_ED25519_PUBLIC: Final = "rz-ed25519-public:"
KEY_PREFIX_ED25519_SECRET: Final = "rz-ed25519-secret:"  # noqa: S105 - a prefix, not a secret
# Hybrid (X-Wing: ML-KEM-768 + X25519) keys for envelope v2: the public key is
# 1216 bytes, the secret the 32-byte X-Wing seed (crypto.xwing, crypto.hybrid).
KEY_PREFIX_XWING_PUBLIC: Final = "rz-xwing-public:"
KEY_PREFIX_XWING_SECRET: Final = "rz-xwing-secret:"  # noqa: S105 - a prefix, not a secret
KEY_TEXT_CHECKSUM_BYTES: Final = 4
KEY_BYTES: Final = 32

# BLAKE2b personalisation strings (at most 16 bytes each).
PERSON_KEY_CHECKSUM: Final = b"rz-key-text-v1"
PERSON_FINGERPRINT: Final = b"rz-fingerprint1"
PERSON_HEADER_MAC_KEY: Final = b"rz-env-hdrmac-v1"
PERSON_PAYLOAD_KEY: Final = b"rz-env-payload1"
PERSON_HEADER_MAC: Final = b"rz-env-mac-v1"
PERSON_SIGNED_DIGEST: Final = b"rz-env-signed-v1"
PERSON_CODENAME_CHECK: Final = b"rz-codename-chk1"
PERSON_SOURCE_LOOKUP: Final = b"rz-src-lookup-v1"
PERSON_SOURCE_X25519: Final = b"rz-src-x25519-v1"
# The source's Ed25519 key, which signs the submission API's request proofs.
PERSON_SOURCE_ED25519: Final = b"rz-src-ed25519v1"
PERSON_MANIFEST_HASH: Final = b"rz-manifest-v1"
PERSON_SUBKEYS_HASH: Final = b"rz-subkeys-v1"
PERSON_SESSION_KEY: Final = b"rz-session-v1"
PERSON_TOTP_KEY: Final = b"rz-totp-key-v1"
# An app host's key for one run (memory only), and the key two hosts share to pass the run key.
PERSON_RUN_HOST: Final = b"rz-run-host-v1"
PERSON_RUN_OFFER: Final = b"rz-run-offer-v1"
PERSON_AUDIT_CHAIN: Final = b"rz-audit-chain1"

FINGERPRINT_BYTES: Final = 20
KEY_ID_BYTES: Final = 8

# Ed25519 signature contexts. Every signature in Raazdar is made over
# `context || 0x00 || message`, so a signature made for one purpose can never
# be replayed as another.
SIG_CONTEXT_ENVELOPE: Final = b"raazdar envelope v1"
SIG_CONTEXT_MANIFEST: Final = b"raazdar keyring manifest v1"
SIG_CONTEXT_API_REQUEST: Final = b"raazdar api request v1"
# A source's reply key, signed on their device (crypto.binding, docs/PROTOCOL.md §18).
SIG_CONTEXT_SOURCE_BINDING: Final = b"raazdar source binding v1"
# A binding that also commits to one-time reply prekeys (docs/PROTOCOL.md §5A.9).
SIG_CONTEXT_SOURCE_BINDING_V2: Final = b"raazdar source binding v2"
# A device's word that it holds no secret of a one-time reply prekey (docs/PROTOCOL.md §5A.9).
SIG_CONTEXT_UNHELD_PREKEY: Final = b"raazdar unheld prekey v1"
PERSON_REPLY_PREKEYS: Final = b"rz-prekeys-v1"
# How many one-time X-Wing reply prekeys `raazdar-submit` makes with each submission.
REPLY_PREKEYS: Final = 4
# The metadata type of a reply that carries, before its text, the day it was written
# (crypto.reply, docs/PROTOCOL.md §5A.11); a reply of format 1 is plain text.
REPLY_TYPE: Final = "text/plain; charset=utf-8; raazdar-reply=2"
REPLY_TYPE_V1: Final = "text/plain; charset=utf-8"
# Format 3: the day, then the keyring its reviewers held in force, so a device sees a
# keyring its server showed it that the reviewers do not hold (docs/PROTOCOL.md §5A.11).
REPLY_TYPE_KEYRING: Final = "text/plain; charset=utf-8; raazdar-reply=3"
# The most days a reply is expected to take from the workstation to the server's listing:
# queued, exported, carried on a stick, imported. A later listing is called out.
REPLY_DELAY_DAYS: Final = 7

# Token (AEAD) contexts: the associated data that binds a token to its purpose.
TOKEN_CONTEXT_SESSION: Final = b"raazdar session v1"
TOKEN_CONTEXT_TOTP: Final = b"raazdar totp secret v1"
TOKEN_CONTEXT_RUN_KEY: Final = b"raazdar run key v1"
TOKEN_CONTEXT_API_CHALLENGE: Final = b"raazdar api challenge v1"

# Staff passwords (crypto.password).
PASSWORD_MIN_CHARS: Final = 12
PASSWORD_MAX_CHARS: Final = 1024
PASSPHRASE_WORDS: Final = 7

# Envelope v1.
ENVELOPE_VERSION_LINE: Final = b"raazdar-envelope/v1"
ENVELOPE_MAGIC_PREFIX: Final = b"raazdar-envelope/"
ENVELOPE_RECIPIENT_TAG: Final = b"-> x25519 "
ENVELOPE_SIGNER_TAG: Final = b"-> ed25519 "
ENVELOPE_MAC_TAG: Final = b"--- "
ENVELOPE_MAX_HEADER_BYTES: Final = 16 * 1024
ENVELOPE_MAX_RECIPIENTS: Final = 64
FILE_KEY_BYTES: Final = 32
STANZA_BODY_BYTES: Final = 80  # SealedBox: ephemeral public key 32 + key 32 + tag 16
HEADER_MAC_BYTES: Final = 32
SIGNATURE_BYTES: Final = 64
CHUNK_BYTES: Final = 64 * 1024
STREAM_HEADER_BYTES: Final = 24
STREAM_ABYTES: Final = 17
METADATA_MAX_BYTES: Final = 4096
# The inner plaintext ends with the metadata record, then its u16 length and the
# u64 content length (these two are TRAILER_FIXED_BYTES).
TRAILER_FIXED_BYTES: Final = 10
TRAILER_MAX_BYTES: Final = METADATA_MAX_BYTES + TRAILER_FIXED_BYTES
# Every inner plaintext is padded to at least this size, so that the length of a
# short message (where Padmé's steps are only a few bytes wide) is not revealed.
MIN_PADDED_BYTES: Final = 4096

# Envelope v2 (docs/PROTOCOL.md §5A): the same layout, with hybrid post-quantum
# recipient stanzas (X-Wing, crypto.xwing) and labels of its own, so that no
# key, MAC or signature of one version is valid in the other.
ENVELOPE_V2_VERSION_LINE: Final = b"raazdar-envelope/v2"
ENVELOPE_V2_RECIPIENT_TAG: Final = b"-> xwing "
XWING_CIPHERTEXT_BYTES: Final = 1120
WRAPPED_FILE_KEY_BYTES: Final = 48  # XChaCha20-Poly1305: file key 32 + tag 16
# The X-Wing ciphertext's line is 1494 characters; 64 such stanzas make a
# header of about 99 KiB.
ENVELOPE_V2_MAX_LINE: Final = 1536
ENVELOPE_V2_MAX_HEADER_BYTES: Final = 128 * 1024
PERSON_STANZA_KEY_V2: Final = b"rz-env-wrap-v2"
PERSON_PAYLOAD_KEY_V2: Final = b"rz-env-payload2"
PERSON_HEADER_MAC_KEY_V2: Final = b"rz-env-hdrmac-v2"
PERSON_HEADER_MAC_V2: Final = b"rz-env-mac-v2"
PERSON_SIGNED_DIGEST_V2: Final = b"rz-env-signed-v2"
SIG_CONTEXT_ENVELOPE_V2: Final = b"raazdar envelope v2"

# Forward-secret period subkeys for envelope v2 (docs/PROTOCOL.md §5A.8,
# crypto.subkeys): a reviewer's signed list of one hybrid subkey per ISO week.
# A list covers 8 weeks by default and at most 26 (half a year); doctor warns
# 14 days before it runs out. A period's secret may be destroyed once the
# period ended more than one day ago (the clock allowance of §8.5) and
# everything sealed to it is imported.
SUBKEYS_TYPE: Final = "raazdar-subkeys"
SUBKEYS_FORMAT: Final = 1
# Format 2 binds a list to one instance and the keyring version it was issued
# under, signed under a context of its own; format 1 is still read.
SUBKEYS_FORMAT_BOUND: Final = 2
# Format 3 adds `sequence`: the workstation numbers each list a reviewer issues, one
# more than the last, so of two lists issued the same day (a re-key after a leak)
# the later outranks the earlier; formats 1 and 2 are still read.
SUBKEYS_FORMAT_SEQUENCED: Final = 3
SUBKEYS_MAX_SEQUENCE: Final = 2**53 - 1
SUBKEYS_PERIODS_AHEAD: Final = 8
SUBKEYS_MAX_PERIODS: Final = 26
SUBKEYS_MAX_BYTES: Final = 64 * 1024
SUBKEYS_WARN_DAYS: Final = 14
SUBKEYS_GRACE_DAYS: Final = 1
SIG_CONTEXT_SUBKEYS: Final = b"raazdar subkey list v1"
SIG_CONTEXT_SUBKEYS_V2: Final = b"raazdar subkey list v2"
SIG_CONTEXT_SUBKEYS_V3: Final = b"raazdar subkey list v3"
# The workstation's store of period secrets (seeds), which its caller seals.
SUBKEY_SECRETS_TYPE: Final = "raazdar-subkey-secrets"
SUBKEY_SECRETS_MAX_PERIODS: Final = 520
SUBKEY_SECRETS_MAX_BYTES: Final = 128 * 1024

# Codenames: seven random words from the EFF large wordlist (7 x 12.92 = 90.5
# bits) and an eighth word that is a checksum of the first seven.
CODENAME_RANDOM_WORDS: Final = 7
CODENAME_WORDS: Final = CODENAME_RANDOM_WORDS + 1
WORDLIST_SIZE: Final = 7776
INSTANCE_SALT_BYTES: Final = 16

# Argon2id limits. `INTERACTIVE` is the source login on the server (0.2-1 s
# here); `SENSITIVE` protects key files on the offline workstation. `TESTING`
# exists only so that test suites run quickly; production refuses it.
ARGON2_OPS_INTERACTIVE: Final = 4
ARGON2_MEM_INTERACTIVE: Final = 128 * 1024 * 1024
ARGON2_OPS_SENSITIVE: Final = 4
ARGON2_MEM_SENSITIVE: Final = 256 * 1024 * 1024
ARGON2_OPS_TESTING: Final = 1
ARGON2_MEM_TESTING: Final = 8 * 1024

# Keyring manifest.
MANIFEST_TYPE: Final = "raazdar-keyring"
MANIFEST_FORMAT: Final = 1
# Format 2 also lists the instance (onions, server keys), the codename salt and
# KDF, and the timestamp key; format 1 stays readable as an old link of a chain.
MANIFEST_FORMAT_INSTANCE: Final = 2
# Format 3 is format 2 with each reviewer's long-term X-Wing key (`hybrid_key`),
# and means: sealers seal envelope v2 to the reviewers' weekly subkeys (§8.9).
MANIFEST_FORMAT_HYBRID: Final = 3
MANIFEST_FORMATS: Final = (MANIFEST_FORMAT, MANIFEST_FORMAT_INSTANCE, MANIFEST_FORMAT_HYBRID)
MANIFEST_MAX_BYTES: Final = 256 * 1024
MANIFEST_MAX_ONIONS: Final = 4
MANIFEST_MAX_SERVER_KEYS: Final = 2
# How long after it is issued a keyring newly installed may be valid (a leap year):
# expiry bounds freeze attacks and a superseded keyring's life (docs/PROTOCOL.md §8.5).
MANIFEST_MAX_DAYS: Final = 366
# A keyring timestamp: a short-lived statement, signed by the keyring's timestamp
# key, that a keyring version is still the newest (docs/PROTOCOL.md §8.8).
TIMESTAMP_TYPE: Final = "raazdar-keyring-timestamp"
TIMESTAMP_FORMAT: Final = 1
# Format 2 also names, for reviewers of the keyring, the lowest number (`sequence`) of the
# subkey list a sealer may take: a device with no state then refuses a list its reviewer
# replaced (re-keyed after a leak) once the timestamps from before it expire.
TIMESTAMP_FORMAT_SUBKEYS: Final = 2
TIMESTAMP_MAX_DAYS: Final = 31
TIMESTAMP_MAX_BYTES: Final = 16 * 1024
SIG_CONTEXT_TIMESTAMP: Final = b"raazdar keyring timestamp v1"

# Key files.
KEYFILE_TYPE: Final = "raazdar-keyfile"
# Format 2 adds `binding`: the file's Ed25519 key signs its public keys, kind and
# label, so an edited public field is refused before anyone types a passphrase.
# Format 1 files (no binding) are still read.
KEYFILE_FORMAT: Final = 2
# Format 3 also holds an X-Wing key (`xwing`), the reviewer's hybrid key for
# envelope v2 (§9); it is written only for key pairs that have one, so files
# without it stay format 2 byte for byte.
KEYFILE_FORMAT_HYBRID: Final = 3
KEYFILE_FORMATS_READ: Final = (1, 2, 3)
KEYFILE_AEAD_NONCE_BYTES: Final = 24
KEYFILE_BINDING_TYPE: Final = "raazdar-key-binding"
SIG_CONTEXT_KEY_BINDING: Final = b"raazdar key binding v1"
# Proof of possession at enrolment (crypto.possession): the holder opens a
# challenge sealed to their X25519 key and signs it with their Ed25519 key.
POSSESSION_TYPE: Final = "raazdar-possession"
POSSESSION_NONCE_BYTES: Final = 32
SIG_CONTEXT_POSSESSION: Final = b"raazdar proof of possession v1"
# The most Argon2id work a key file may ask for: what raazdar-review writes
# (SENSITIVE). A file asking for more (up to 4 GiB) is refused before deriving.
KEYFILE_MAX_KDF_OPS: Final = ARGON2_OPS_SENSITIVE
KEYFILE_MAX_KDF_MEM: Final = ARGON2_MEM_SENSITIVE
# The largest key file read (some 2 KiB in use): a reader refuses a larger one unread.
KEYFILE_MAX_BYTES: Final = 64 * 1024

# Bundles (export: server -> review; replies: review -> server).
BUNDLE_VERSION_LINE: Final = b"raazdar-bundle/v1"
BUNDLE_MAGIC_PREFIX: Final = b"raazdar-bundle/"
BUNDLE_MAX_MANIFEST_BYTES: Final = 64 * 1024 * 1024
BUNDLE_MAX_ITEM_BYTES: Final = 8 * 1024**3
SIG_CONTEXT_BUNDLE: Final = b"raazdar bundle v1"
PERSON_BUNDLE_ITEM: Final = b"rz-bundle-item1"
# The digest by which each export bundle names the one before it (the export chain).
PERSON_BUNDLE_CHAIN: Final = b"rz-bundle-chain1"
# The review workspace's own key over a reply bundle's acknowledgements (reply format 4),
# and an earlier workspace key's word that a later one took its place.
SIG_CONTEXT_ACK_SEAL: Final = b"raazdar acknowledgement seal v1"
SIG_CONTEXT_ACK_HANDOVER: Final = b"raazdar acknowledgement key handover v1"
# Reply format 5: the seal covers the whole bundle manifest (items and signer included).
SIG_CONTEXT_ACK_SEAL_BUNDLE: Final = b"raazdar acknowledgement seal v2"

# The submission API (docs/PROTOCOL.md §16): request proofs and their challenges.
PERSON_API_BODY: Final = b"rz-api-body-v1"
PERSON_API_CHALLENGE_KEY: Final = b"rz-api-chal-v1"

# Escalation packets (docs/PROTOCOL.md §17): an envelope sealed to an oversight
# body, signed by the reviewer who wrote it and by any countersigners.
PACKET_VERSION_LINE: Final = b"raazdar-packet/v1"
PACKET_MAGIC_PREFIX: Final = b"raazdar-packet/"
PACKET_CONTENT_TYPE: Final = "raazdar-packet-content"
PACKET_FORMAT: Final = 1
PACKET_METADATA_KIND: Final = "packet"
PACKET_METADATA_TYPE: Final = "application/vnd.raazdar.packet"
PACKET_MAX_SIGNATURES: Final = 16
PACKET_MAX_INDEX_BYTES: Final = 16 * 1024 * 1024
PACKET_MAX_BYTES: Final = 512 * 1024 * 1024
PERSON_PACKET_DIGEST: Final = b"rz-packet-v1"
PERSON_PACKET_FILE: Final = b"rz-packet-file1"
SIG_CONTEXT_PACKET: Final = b"raazdar escalation packet v1"
