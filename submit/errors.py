"""The client's one exception root, and the few kinds its callers tell apart."""

from __future__ import annotations


class SubmitError(Exception):
    """Anything the client refuses or cannot do; the CLI prints its message and hint."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


class StateError(SubmitError):
    """The local state directory is unusable, damaged, in use, or for another instance."""


class TrustError(SubmitError):
    """The instance's keyring does not verify against what this device pinned: send nothing."""


class TransportError(SubmitError):
    """The instance could not be reached (tor missing, circuit dropped, timeout)."""


class ServerError(SubmitError):
    """The server answered with a refusal: its status, its error code, its Upload-Offset,
    and its Retry-After (seconds) if it gave one.

    `quoted` says the message quotes the server's own words, which it chooses.
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        offset: int | None = None,
        hint: str | None = None,
        quoted: bool = False,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.status = status
        self.code = code
        self.offset = offset
        self.quoted = quoted
        self.retry_after = retry_after
