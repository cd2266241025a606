"""Raazdar's cryptography: the only package that touches keys and ciphertext formats.

Both sides speak through it — the server, the offline review tool and the
end-to-end client — and nothing outside it imports `nacl`.
"""

from crypto.chain import GENESIS, chain_link
from crypto.codename import (
    CodenameParams,
    SourceKeys,
    check_codename,
    derive_source_keys,
    generate_codename,
    generate_digit_codename,
    holds_codename,
    normalize_codename,
    random_words,
)
from crypto.envelope import (
    Metadata,
    Opened,
    SealingWriter,
    SealResult,
    open_bytes,
    open_envelope,
    open_to_path,
    read_header,
    seal,
    seal_bytes,
    verify_signature,
)
from crypto.errors import (
    CodenameError,
    CryptoError,
    DecryptionError,
    FormatError,
    UnsupportedVersionError,
    VerificationError,
)
from crypto.hybrid import HybridPrivateKey, HybridPublicKey
from crypto.instance import InstanceListing, TimestampPolicy
from crypto.kdf import KdfParams
from crypto.keyfile import KeyFile, KeyPair
from crypto.keys import Fingerprint, PrivateKey, PublicKey, SigningKey, VerifyKey
from crypto.manifest import (
    AuthorityKey,
    Manifest,
    Recipient,
    SignedManifest,
    check_lifetime,
    check_names,
    check_step,
    verify_chain,
    verify_initial,
    verify_successor,
)
from crypto.password import COST as PASSWORD_COST
from crypto.password import (
    generate_passphrase,
    hash_password,
    needs_rehash,
    unmatchable_hash,
    verify_password,
)
from crypto.subkeys import (
    Period,
    SignedSubkeyList,
    SubkeyError,
    SubkeyList,
    SubkeySecrets,
    open_with_subkeys,
    sign_subkeys,
    verify_subkeys,
)
from crypto.timestamp import SignedTimestamp, Timestamp, make_timestamp, verify_timestamp
from crypto.token import TokenKey

__all__ = [
    "GENESIS",
    "PASSWORD_COST",
    "AuthorityKey",
    "CodenameError",
    "CodenameParams",
    "CryptoError",
    "DecryptionError",
    "Fingerprint",
    "FormatError",
    "HybridPrivateKey",
    "HybridPublicKey",
    "InstanceListing",
    "KdfParams",
    "KeyFile",
    "KeyPair",
    "Manifest",
    "Metadata",
    "Opened",
    "Period",
    "PrivateKey",
    "PublicKey",
    "Recipient",
    "SealResult",
    "SealingWriter",
    "SignedManifest",
    "SignedSubkeyList",
    "SignedTimestamp",
    "SigningKey",
    "SourceKeys",
    "SubkeyError",
    "SubkeyList",
    "SubkeySecrets",
    "Timestamp",
    "TimestampPolicy",
    "TokenKey",
    "UnsupportedVersionError",
    "VerificationError",
    "VerifyKey",
    "chain_link",
    "check_codename",
    "check_lifetime",
    "check_names",
    "check_step",
    "derive_source_keys",
    "generate_codename",
    "generate_digit_codename",
    "generate_passphrase",
    "hash_password",
    "holds_codename",
    "make_timestamp",
    "needs_rehash",
    "normalize_codename",
    "open_bytes",
    "open_envelope",
    "open_to_path",
    "open_with_subkeys",
    "random_words",
    "read_header",
    "seal",
    "seal_bytes",
    "sign_subkeys",
    "unmatchable_hash",
    "verify_chain",
    "verify_initial",
    "verify_password",
    "verify_signature",
    "verify_subkeys",
    "verify_successor",
    "verify_timestamp",
]
