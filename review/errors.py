"""The review tool's one exception root, and the few kinds callers tell apart."""

from __future__ import annotations


class ReviewError(Exception):
    """Anything the review tool refuses; the CLI prints its message and optional hint."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


class WorkspaceError(ReviewError):
    """A workspace that is missing, already exists, or is damaged."""


class UnlockError(ReviewError):
    """A reviewer that is not enrolled, or a key file that does not unlock."""


class ImportRefused(ReviewError):
    """A bundle that does not verify: nothing of it was imported."""


class NotFound(ReviewError):
    """A report, attachment or reviewer that does not exist here."""


class InvalidValue(ReviewError):
    """A triage value that the workflow does not allow."""


class Unsupported(ReviewError):
    """An attachment whose metadata cannot be removed (`review.escalation.scrub`)."""
