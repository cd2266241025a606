"""What to tell an operator when a reply bundle or keyring is refused: what, that, and next.

Every refusal names what was refused, says that nothing changed, and says
what to do next, as the review tool's `bundle refused: …` messages do. The
console (`error:`/`hint:` lines) and the staff pages say the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from app.errors import KeyringUnavailable
from crypto import CryptoError, FormatError, VerificationError
from crypto.errors import UnsupportedVersionError

NOTHING_CHANGED: Final = "nothing changed"
COPY_AGAIN: Final = "copy it again from the review workstation (`raazdar-review exchange export`)"


@dataclass(frozen=True)
class Refusal:
    """A refusal as people read it: `error` says what and that nothing changed; `hint` what next."""

    error: str
    hint: str
    rule: str

    @property
    def sentences(self) -> tuple[str, str]:
        """The refusal and the hint as sentences, for a web page."""
        what = self.error.removeprefix("reply bundle refused: ").removesuffix(
            f": {NOTHING_CHANGED}"
        )
        return f"{what[:1].upper()}{what[1:]}.", f"{self.hint[:1].upper()}{self.hint[1:]}."


_REPLY_RULES: Final = {
    "replay": (
        "it was applied before",
        "nothing to do: its replies are already posted; send the next reply bundle instead",
    ),
    "voided": (
        "the reviewers took it back, and a later reply bundle applied here voided it",
        "nothing to do: destroy this copy; what of it still stands went out in the later bundle",
    ),
    "instance": (
        "it was made for another Raazdar instance",
        "export the replies on the workstation set up for this server "
        "(compare `raazdar server-info` with its pins)",
    ),
    "signature": ("its signature does not verify: the file was altered or damaged", COPY_AGAIN),
    "hash": (
        "its contents do not match its signed manifest: the file was altered or damaged",
        COPY_AGAIN,
    ),
    "restored": (
        "it was written before this server was put back from a backup (it names another of "
        "the server's restores), and may have been applied here before the restore",
        "the reviewers import the server's next export, which names the restore and the reply "
        "bundles to send again, then take this one back (`raazdar-review exchange take-back`) "
        "and export again: destroy this copy",
    ),
    "signer": (
        "it is not signed by a reviewer in the keyring in force",
        "export it again as a reviewer the keyring lists, or install the newer keyring first "
        "(`raazdar keyring install FILE`)",
    ),
}


# A bundle the workspace key held here did not seal whole: what it says comes with the error.
_AUTHORITY_HINTS: Final = {
    "no-ack-key": (
        "the review workstation names its workspace key at each import of an export "
        "(`raazdar-review exchange import`): an administrator at the console checks it with the "
        "reviewers and gives it (`raazdar set-ack-key KEY`), then this same bundle is handed in "
        "again; a bundle sealed by any other key is kept for the oversight body"
    ),
    "unsealed": (
        "a review workstation older than this server writes no such seal: update it, take the "
        "bundle back (`raazdar-review exchange take-back`) and export again; if nobody at the "
        "workstation wrote this bundle, a reviewer's key file is used elsewhere: keep the file "
        "for the oversight body and have that key revoked"
    ),
    "ack-key": (
        "if the review workspace was started again, or put back from a copy older than the "
        "key held, its import names its key: the administrators give it at the console "
        "(`raazdar set-ack-key KEY`) and this same bundle is handed in again; one written "
        "before a `keys rewrap` and handed in after a later bundle is taken back "
        "(`raazdar-review exchange take-back`) and exported again; otherwise keep the file "
        "for the oversight body: someone seals with a workspace key of their own"
    ),
}


def reply_bundle_refusal(exc: CryptoError | KeyringUnavailable) -> Refusal:
    """Say why a reply bundle was refused whole, and what to do about it."""
    if isinstance(exc, KeyringUnavailable):
        return Refusal(
            f"reply bundle refused: no keyring is in force, so no reviewer signature can be "
            f"trusted: {NOTHING_CHANGED}",
            "install a keyring the authorities signed: `raazdar keyring install FILE`",
            "keyring",
        )
    if isinstance(exc, VerificationError) and exc.rule in _AUTHORITY_HINTS:
        what = str(exc).removeprefix(f"{exc.rule}: ")
        return Refusal(
            f"reply bundle refused: {what}: no reply posted, no notice set, nothing voided "
            f"or deleted: {NOTHING_CHANGED}",
            _AUTHORITY_HINTS[exc.rule],
            exc.rule,
        )
    if isinstance(exc, VerificationError) and exc.rule in _REPLY_RULES:
        what, hint = _REPLY_RULES[exc.rule]
        return Refusal(f"reply bundle refused: {what}: {NOTHING_CHANGED}", hint, exc.rule)
    if isinstance(exc, UnsupportedVersionError):
        # A workstation upgraded before its server: servers go first (docs/PROTOCOL.md §12).
        return Refusal(
            f"reply bundle refused: it is written in a newer format than this server reads "
            f"({exc}): {NOTHING_CHANGED}",
            "upgrade this server to the workstation's release, then apply the same bundle "
            "again (servers are upgraded before workstations)",
            "format",
        )
    rule = exc.rule if isinstance(exc, VerificationError) else "format"
    detail = str(exc) if isinstance(exc, FormatError | VerificationError) else type(exc).__name__
    return Refusal(
        f"reply bundle refused: it is not a complete, well-formed reply bundle ({detail}): "
        f"{NOTHING_CHANGED}",
        f"it may be truncated or damaged: {COPY_AGAIN}; reply bundles end in .rzr",
        rule,
    )


def keyring_refusal(exc: Exception) -> Refusal:
    """Say why a keyring was not installed (`exc` or its cause), and what to do about it."""
    cause = exc.__cause__ if isinstance(exc.__cause__, Exception) else exc
    if isinstance(cause, VerificationError) and cause.rule in ("signature", "hash"):
        hint = "the file was altered or damaged: copy it again from the ceremony's medium"
    elif isinstance(cause, FormatError) or str(exc).startswith("not a keyring manifest"):
        hint = "it is damaged or not a keyring file: copy it again from the ceremony's medium"
    elif isinstance(cause, OSError):
        hint = "free space or fix permissions in the instance, then install it again"
    else:
        hint = (
            "a successor has a higher version, names the manifest in force as its previous one, "
            "has not expired, and carries enough signatures of the current authority keys"
        )
    rule = cause.rule if isinstance(cause, VerificationError) else type(cause).__name__
    return Refusal(f"keyring not installed: {exc}: {NOTHING_CHANGED}", hint, rule)
