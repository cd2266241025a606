"""The server's exception tree; `app.handlers` turns each into one HTTP response."""

from __future__ import annotations

import errno
from typing import Any


class AppError(Exception):
    """Root of every error the server raises on purpose."""

    status = 500
    # What to do about it: the command line's `hint:` line (None: nothing to add).
    hint: str | None = None
    # Whether a report's body cut short by it gives the form back (`BodyCutShort`): the
    # server's doing for a while (a thread taken for another circuit), not the source's.
    gives_form_back = False


class BodyCutShort(AppError):
    """A form's body stopped coming for a reason that `gives_form_back`: the text fields
    that came whole, to give the form back, and the reason, to answer as it says."""

    def __init__(self, fields: Any, cause: AppError) -> None:
        super().__init__(type(cause).__name__)
        self.fields = fields
        self.cause = cause
        self.status = cause.status
        self.retry_after = getattr(cause, "retry_after", None)


class KeyringUnavailable(AppError):
    """No valid, unexpired keyring is in force: reports cannot be sealed now."""

    status = 503


class ThrottledError(AppError):
    """Too many failed attempts recently; the caller must wait."""

    status = 429


class SubmissionError(AppError):
    """A submission was refused; the message is safe to show to the source."""

    status = 400


class ReportTooLarge(SubmissionError):
    """A report's files are more than the upload limit: its form goes back, files dropped."""

    status = 413

    def __init__(self) -> None:
        super().__init__("too-large")


class AccountPaced(SubmissionError):
    """This Tor circuit made a new account a moment ago (`app.circuits`): the next in a minute."""

    status = 503

    def __init__(self, retry_after: int) -> None:
        super().__init__("busy")
        self.retry_after = retry_after


class ReportPaced(AccountPaced):
    """This account stored its allowance of later reports a moment ago (`app.report_pacing`),
    or they would take the store's last space, kept for first reports: the next a while on."""


class ConfigError(AppError):
    """The configuration is missing or unsafe; the server refuses to start."""


class PasswordInEnvironment(ConfigError):
    """RAAZDAR_DATABASE_URL holds a password: every user can read a unit's environment."""

    hint = (
        "put the password in the raazdar user's ~/.pgpass (mode 0600), which PostgreSQL's "
        "client reads, and take it out of the URL (deploy/README.md §2.1)"
    )


class RestoreUnfinished(ConfigError):
    """The instance was put back from a backup and not purged since (`app.instance`)."""

    hint = (
        "undo what the backup brought back as deploy/README.md §1.7 says (keyring, staff "
        "accounts, rotations), then run `raazdar purge` (with --trust-clock if the backup "
        "is over a week old): it finishes the restore"
    )


class CommitsDated(ConfigError):
    """The database's PostgreSQL keeps each commit's time (`app.commit_times`)."""

    hint = (
        "as a superuser, ALTER SYSTEM SET track_commit_timestamp = off; then restart "
        "PostgreSQL (or set it off in postgresql.conf), and start the server; the times it "
        "kept stay in pg_commit_ts/ until PostgreSQL truncates it (deploy/README.md §2.1)"
    )


class SchemaMismatch(ConfigError):
    """The database's schema is not the one this release's migrations end at."""

    hint = (
        "run `raazdar migrate` (deploy/README.md §1.8), then start the server; a database "
        "a newer release migrated needs that release"
    )


class InstanceError(AppError):
    """The instance directory is missing, incomplete or already initialised."""


# A passing fault asks the visitor to come back after this many seconds.
FAULT_RETRY_AFTER = 60


class CommitUnconfirmed(AppError):
    """A commit's answer was lost and the database could not be asked whether it landed.

    What the transaction stored in files stays (`app.db.commit_or_confirm`).
    """

    status = 503
    retry_after = FAULT_RETRY_AFTER
    hint = "run the same command again once the database answers: nothing is applied twice"


class PassingFault(AppError):
    """A full disk or a busy database (`fault`) refused a request for now: try again soon."""

    status = 503
    retry_after = FAULT_RETRY_AFTER


def fault(exc: BaseException) -> str | None:
    """Name the passing fault `exc` is ("storage-full", "storage-unavailable",
    "database-unavailable"), or None.

    A full disk, a disk that takes no writes (read-only: ext4 remounts itself so after
    an error; or failing), and a database that is locked, down or unreachable are told
    as "busy, try again" (503), never as a failure of the server's own. So is a request
    that waited out the pool for a connection (every one held by other threads): it was
    a 500 and an "unexpected" error in the log. A report a browser sent is given back
    then (`app.source.views`): a 500 page in its place lost what the source wrote.
    """
    from sqlalchemy.exc import DBAPIError, OperationalError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    seen: BaseException | None = exc
    for _ in range(8):  # the exception and what caused it, a few links deep
        if seen is None:
            break
        if isinstance(seen, OSError) and seen.errno in (errno.ENOSPC, errno.EDQUOT):
            return "storage-full"
        if isinstance(seen, OSError) and seen.errno in (errno.EROFS, errno.EIO):
            return "storage-unavailable"
        if isinstance(seen, OperationalError | PoolTimeout) or (
            isinstance(seen, DBAPIError) and seen.connection_invalidated
        ):
            return "database-unavailable"
        seen = seen.__cause__ or seen.__context__
    return None


def malformed_body(exc: BaseException) -> bool:
    """Say whether `exc` is gunicorn's word for a request body it could not parse."""
    try:
        from gunicorn.http.errors import NoMoreData, ParseException
    except ImportError:  # served by something else: it raises its own ValueErrors
        return False
    return isinstance(exc, ParseException | NoMoreData)
