"""The server's exception tree; `app.handlers` turns each into one HTTP response."""

from __future__ import annotations


class AppError(Exception):
    """Root of every error the server raises on purpose."""

    status = 500


class KeyringUnavailable(AppError):
    """No valid, unexpired keyring is in force: reports cannot be sealed now."""

    status = 503


class ThrottledError(AppError):
    """Too many failed attempts recently; the caller must wait."""

    status = 429


class SubmissionError(AppError):
    """A submission was refused; the message is safe to show to the source."""

    status = 400


class ConfigError(AppError):
    """The configuration is missing or unsafe; the server refuses to start."""


class InstanceError(AppError):
    """The instance directory is missing, incomplete or already initialised."""
