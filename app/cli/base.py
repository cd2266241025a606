"""The `raazdar` group and what every command shares: errors as messages, an app context."""

from __future__ import annotations

import functools
import os
import stat
import sys
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO, Final, NoReturn, TypeVar

import click
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from app.config import DEFAULT_INSTANCE
from app.dumps import forbid_core_dumps
from app.errors import AppError
from crypto import CryptoError

F = TypeVar("F", bound=Callable[..., Any])
PROG: Final = "raazdar"


def clean(text: str) -> str:
    """Text safe for a terminal: no control characters but line breaks and tabs."""
    return "".join(
        "\ufffd" if unicodedata.category(ch) == "Cc" and ch not in "\n\t" else ch for ch in text
    )


def fail(message: str, hint: str | None = None) -> NoReturn:
    """Print `raazdar: error: …` (and a hint) and exit 1."""
    click.echo(f"{PROG}: error: {clean(message)}", err=True)
    if hint:
        click.echo(f"{PROG}: hint: {clean(hint)}", err=True)
    sys.exit(1)


def open_carried(path: Path) -> BinaryIO:
    """Open a file the OUT stick carried, refusing what its carrier can put in its place: a
    named pipe (opened as a file, one no one writes to holds the console for ever) or a device."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        fail(f"{path} cannot be read: {exc.strerror or exc}")
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            fail(
                f"{path} is not a file (a pipe, a device, or a link to one)",
                "what the review workstation writes is a plain file: have it written onto"
                " the stick again (something else was put in its place)",
            )
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def reports_errors(command: F) -> F:
    """Turn the project's errors into messages and exit codes, in one place."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except AppError as exc:
            fail(str(exc), exc.hint)
        except CryptoError as exc:
            fail(str(exc))
        except OSError as exc:
            fail(f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": "))
        except SQLAlchemyError as exc:
            fail(f"the database: {_first_line(exc)}", _DATABASE_HINT)

    return wrapper  # type: ignore[return-value]


_DATABASE_HINT: Final = (
    "check that the database runs and that config.json's database_url (or "
    "RAAZDAR_DATABASE_URL) names it; after an upgrade, `raazdar migrate`"
)


def _first_line(exc: SQLAlchemyError) -> str:
    """What the driver said, without SQLAlchemy's statement and link (parameters are hidden)."""
    said = str(exc.orig) if isinstance(exc, DBAPIError) and exc.orig is not None else str(exc)
    return (said.strip().splitlines() or [type(exc).__name__])[0]


class Group(click.Group):
    """The `raazdar` group: a command that forgot `reports_errors` still reports, not traces."""

    def invoke(self, ctx: click.Context) -> Any:
        return reports_errors(super().invoke)(ctx)


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--instance",
    "instance",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="RAAZDAR_INSTANCE",
    default=DEFAULT_INSTANCE,
    show_default=True,
    help="The instance directory (or set RAAZDAR_INSTANCE).",
)
@click.pass_context
def main(ctx: click.Context, instance: Path) -> None:
    """Run and administer a Raazdar server."""
    # Everything the server writes (database, keys, envelopes) is its own alone.
    os.umask(0o077)
    ctx.obj = instance.resolve()


def run() -> None:
    """Run the command line with this tool's error format and exit codes (`raazdar`)."""
    # Here, not in `main`: a test's CliRunner runs `main` in its own process.
    forbid_core_dumps()
    try:
        result = main.main(prog_name=PROG, standalone_mode=False)
    except click.exceptions.Abort:
        fail("aborted")
    except click.ClickException as exc:
        click.echo(f"{PROG}: error: {clean(exc.format_message())}", err=True)
        click.echo(f"{PROG}: hint: run `{PROG} --help` for usage", err=True)
        sys.exit(exc.exit_code)
    sys.exit(result if isinstance(result, int) else 0)


def app_context(instance: Path) -> Any:
    """An app for `instance`, for commands that use the services (even mid-restore)."""
    from app import create_app
    from app.config import config_for

    return create_app(config_for(instance, ADMINISTERING=True)).app_context()
