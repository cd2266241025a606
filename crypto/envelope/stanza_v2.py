"""Envelope v2's recipient stanza: the file key wrapped under an X-Wing shared secret.

    (ss, ct)  = X-Wing.Encapsulate(pk)
    wrap_key  = BLAKE2b-256(key=ss, person="rz-env-wrap-v2", ct || pk)
    wrapped   = XChaCha20-Poly1305(wrap_key, nonce=0^24, ad="raazdar-envelope/v2", file_key)

X-Wing's secret already binds its X25519 ciphertext and public key; hashing
the whole `ct` and `pk` into the wrap key binds the ML-KEM halves too, whatever
ML-KEM's own binding properties. Each wrap key is used once, so a fixed nonce
is safe (age wraps its file keys the same way).
"""

from __future__ import annotations

from typing import Final

import nacl.bindings
import nacl.exceptions

from crypto import constants as C
from crypto.encoding import blake2b
from crypto.errors import DecryptionError
from crypto.hybrid import HybridPrivateKey, HybridPublicKey

_NONCE: Final = bytes(nacl.bindings.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES)
_AD: Final = C.ENVELOPE_V2_VERSION_LINE


def wrap_key(shared_secret: bytes, ciphertext: bytes, public: HybridPublicKey) -> bytes:
    """Derive the key that wraps the file key from one encapsulation."""
    return blake2b(ciphertext + public.raw, key=shared_secret, person=C.PERSON_STANZA_KEY_V2)


def wrap(file_key: bytes, recipient: HybridPublicKey) -> tuple[bytes, bytes]:
    """Return the stanza body's fields: the X-Wing ciphertext and the wrapped file key."""
    shared_secret, ciphertext = recipient._xwing.encapsulate()
    key = wrap_key(shared_secret, ciphertext, recipient)
    wrapped = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(file_key, _AD, _NONCE, key)
    return ciphertext, wrapped


def unwrap(identity: HybridPrivateKey, body: bytes) -> bytes | None:
    """Open a stanza body with `identity`; None if it is not this key's (or was altered)."""
    ciphertext, wrapped = body[: C.XWING_CIPHERTEXT_BYTES], body[C.XWING_CIPHERTEXT_BYTES :]
    try:
        shared_secret = identity._xwing.decapsulate(ciphertext)
        key = wrap_key(shared_secret, ciphertext, identity.public_key)
        return bytes(
            nacl.bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(wrapped, _AD, _NONCE, key)
        )
    except (DecryptionError, nacl.exceptions.CryptoError):
        return None
