"""The command line's frame: the group, its context, errors and exit codes, safe output.

Errors become `raazdar-review: error: …` (and a `hint:` line) with exit status
1 here and nowhere else; usage errors exit 2. Passphrases are prompted, or read
one per line from `--passphrase-file FILE` or `--passphrase-fd N` for scripts:
never from an argument or the environment, where other processes see them.
"""

from __future__ import annotations

import ctypes
import datetime as dt
import os
import resource
import signal
import sqlite3
import stat
import sys
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import IO, Any, Final

import click
from rich.console import Console

from crypto import constants as C
from crypto.errors import CryptoError
from review import workspace as ws
from review.casework import writing
from review.cli import idle, sensitive
from review.errors import ReviewError, UnlockError
from review.keys.rewrap import moved, upgrade_key
from review.present import disk
from review.present.text import clean
from review.workspace.blobs import clear_times
from review.workspace.held import ram_dir
from review.workspace.schema import rebuild_unless_rebuilt, scrub_journal_at

PROG: Final = "raazdar-review"
# prctl(2): whether a crash may be dumped (and others of this user may trace us).
_PR_SET_DUMPABLE: Final = 4


def make_console() -> Console:
    """A console for tables; wide when not a terminal, so piped output is not wrapped."""
    return Console(width=None if sys.stdout.isatty() else 200, highlight=False)


def shown(path: Path | str) -> str:
    """A path as the tool echoes it: whoever named a file on a stick chose its name, and
    escape sequences in it must reach the terminal as text, never as commands."""
    return clean(str(path))


def read_carried(path: Path, limit: int, what: str) -> bytes:
    """A file a stick carried, whole: refused at once when a pipe or a device (a link to one
    too) stands in its place, or when it is larger than `limit` bytes, before it is read.

    Whoever carries the stick chose what is there: a named pipe no one writes to blocks a
    read for ever, and a sparse file of gigabytes takes no room on the stick.
    """
    hint = f"{what} is a plain file: have it written onto the stick again"
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    with os.fdopen(fd, "rb") as src:
        found = os.fstat(fd)
        if not stat.S_ISREG(found.st_mode):
            raise ReviewError(
                f"{shown(path)} is not a file (a pipe, a device, or a link to one)", hint=hint
            )
        if found.st_size > limit:
            raise ReviewError(
                f"{shown(path)} is larger than {what} can be ({limit:,} bytes)", hint=hint
            )
        os.set_blocking(fd, True)
        data = src.read(limit + 1)  # one byte more: a file grown since is refused, not cut
    if len(data) > limit:
        raise ReviewError(
            f"{shown(path)} is larger than {what} can be ({limit:,} bytes)", hint=hint
        )
    return data


def read_key_file(path: Path) -> bytes:
    """A key file (a reviewer's, an authority's, a body's) as `read_carried` reads one: a pipe
    in its place waited on for ever, and a sparse file of gigabytes was read whole."""
    return read_carried(path, C.KEYFILE_MAX_BYTES, "a key file")


def fail(ctx: click.Context, message: str, hint: str | None) -> None:
    """Print an error (and a hint) in the tool's format and exit with status 1."""
    click.echo(f"{PROG}: error: {clean(sensitive.unquoted(message))}", err=True)
    if hint:
        click.echo(f"{PROG}: hint: {clean(sensitive.unquoted(hint))}", err=True)
    ctx.exit(1)


class Group(click.Group):
    """A group that turns the review tool's errors into messages and exit status 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            result = super().invoke(ctx)
            _drop_drafts(ctx)
            return result
        except idle.IdleLocked as exc:
            locked(ctx, exc)
        except ReviewError as exc:
            kept = kept_hint(ctx)
            fail(ctx, str(exc), "; ".join(h for h in (exc.hint, kept) if h) or None)
        except CryptoError as exc:
            fail(ctx, str(exc), "the workspace may be damaged: run `raazdar-review audit verify`")
        except OSError as exc:
            fail(ctx, f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), None)
        except sqlite3.OperationalError as exc:
            # A full disk, a read-only mount, a lock held too long: the write was undone.
            fail(
                ctx,
                f"the workspace's database refused the write: {exc}",
                "nothing of this command was kept: free space on the workspace's disk, or "
                "mount it read-write, and run it again",
            )
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as exc:
            # A fault nobody foresaw: its message and traceback may hold what a report says,
            # and the scrollback (or a file stderr goes to) would keep them.
            kept = kept_hint(ctx)
            fail(
                ctx,
                f"an unexpected {type(exc).__name__}: a fault in the tool, not in what you did;"
                " its details are not shown, as they may hold what a report says",
                "; ".join(
                    h for h in (kept, "tell whoever keeps the tool which command it was") if h
                ),
            )
        finally:
            if isinstance(ctx.obj, Ctx) and (ctx.obj.root / ws.DB_NAME).is_file():
                # A write outside `transaction` (none is meant to be) leaves no journal either.
                with suppress(sqlite3.Error):
                    scrub_journal_at(ctx.obj.root / ws.DB_NAME)
                rebuild_after_writes(ctx.obj.root)
                clear_times(ctx.obj.root)
        return None


def _drop_drafts(ctx: click.Context) -> None:
    """Drop the drafts a command that succeeded took up; a refusal is a warning, not its fault.

    Failed as the command's error ("nothing of this command was kept … run it again"), it
    had the reviewer run again a command whose note or reply was saved: twice, then.
    """
    try:
        idle.drop_drafts(_held(ctx))
    except (sqlite3.Error, OSError, ReviewError) as exc:
        click.echo(
            f"{PROG}: warning: done, but the draft it started from could not be removed"
            f" ({clean(sensitive.unquoted(str(exc)))}): the next command that opens it starts"
            " from it again; empty it there to throw it away",
            err=True,
        )


def rebuild_after_writes(root: Path) -> None:
    """Rewrite the database if anything was written to it since it last was (by this command
    or one cut off before its end), so that its layout dates nothing.

    What a command writes lies out of the order a rebuild leaves (a report's row triaged
    moved in its page, a long note's pages at the file's end): kept so, it told a seizer
    which reports were worked on since the last import, and in which order.
    """
    try:
        done = rebuild_unless_rebuilt(root / ws.DB_NAME)
    except (sqlite3.Error, OSError):
        done = False
    if not done:
        click.echo(
            f"{PROG}: warning: the workspace's database could not be rewritten after this"
            " command (a full disk, or another raazdar-review reading it): until a command"
            " that writes rewrites it, the order of its pages may show what was done since",
            err=True,
        )


def _held(ctx: click.Context) -> ws.Unlocked | None:
    """The workspace this command unlocked, if it did."""
    c = ctx.find_object(Ctx)
    return c.held if c is not None else None


def locked(ctx: click.Context, exc: idle.IdleLocked) -> None:
    """End a command the idle lock stopped: its drafts sealed, the screen erased, status 1."""
    hint = kept_hint(ctx)
    idle.erase_screen()
    fail(ctx, str(exc), hint or exc.hint)


def kept_hint(ctx: click.Context) -> str | None:
    """Seal what the reviewer wrote in a command that fails; the hint naming it, if any."""
    try:
        kept = idle.keep_drafts(_held(ctx))
    except (ReviewError, CryptoError, sqlite3.Error) as error:
        said = clean(sensitive.unquoted(str(error)))
        click.echo(f"{PROG}: warning: the draft could not be kept: {said}", err=True)
        return None
    if not kept:
        return None
    again = ", ".join(f"`{PROG} {slot_command(slot)}`" for slot in kept)
    return f"what you wrote is sealed in the workspace as a draft: {again} opens it again"


def slot_command(slot: str) -> str:
    """The command that opens a draft's slot again (`reply:3` is `reply 3`)."""
    return slot.replace(":", " ")


class Root(Group):
    """The tool's top group: commands in the order added, shortcuts apart, old names hidden."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.aliases: dict[str, tuple[str, ...]] = {}
        self.shortcuts: dict[str, tuple[str, ...]] = {}

    def add_shortcut(self, name: str, path: tuple[str, ...]) -> None:
        """Run the command at `path` by one name too, listed under Shortcuts."""
        self.add_command(follow(self, path), name)
        self.shortcuts[name] = path

    def invoke(self, ctx: click.Context) -> Any:
        sweep_killed()
        return super().invoke(ctx)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # The groups and commands first; then each shortcut with what it stands for.
        limit = formatter.width - 6 - max(map(len, self.commands), default=0)
        rows = [(n, c.get_short_help_str(limit)) for n, c in self.commands.items()]
        with formatter.section("Commands"):
            formatter.write_dl([row for row in rows if row[0] not in self.shortcuts])
        with formatter.section("Shortcuts"):
            formatter.write_dl([(n, f"same as `{' '.join(p)}`") for n, p in self.shortcuts.items()])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        found = super().get_command(ctx, cmd_name)
        if found is None and cmd_name in self.aliases:
            return follow(self, self.aliases[cmd_name])
        return found

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name, command, rest = super().resolve_command(ctx, args)
        if name is not None and name not in self.commands and name in self.aliases:
            tell_renamed(name, self.aliases[name])
        return name, command, rest


def sweep_killed() -> None:
    """Destroy what commands killed outright (SIGKILL, out of memory) left in plaintext: an
    editor's draft in memory, the part of an attachment beside the file it was written to.

    Every command does it, not only the next to open an editor or write a file: a reviewer
    goes on reading reports (`show`, `list`, the terminal UI), and what a killed `note` or
    `report open` left stayed meanwhile, for whoever takes the workstation running.
    """
    with suppress(OSError):
        sensitive.sweep_left_drafts(sensitive.drafts_dir())
    if (base := ram_dir()) is not None:  # a note of a file being written is kept only there
        with suppress(OSError):
            writing.sweep(base)


def follow(group: click.Group, path: tuple[str, ...]) -> click.Command:
    """The command at a path of names under a group (KeyError when one is missing)."""
    command: click.Command = group
    for name in path:
        if not isinstance(command, click.Group):
            raise KeyError(name)
        command = command.commands[name]
    return command


def tell_renamed(old: str, new: tuple[str, ...]) -> None:
    """Name an old command's new name to a person at a terminal; scripts' output is unchanged."""
    # Only a terminal: scripts whose stderr is logged or mailed see nothing new this release.
    if sys.stderr.isatty():
        click.echo(
            f"{PROG}: hint: `{old}` is now `{PROG} {' '.join(new)}`;"
            " the old name goes in the next release",
            err=True,
        )


class Passphrases:
    """Passphrases read one per line, in the order the prompts would ask for them."""

    def __init__(self, stream: IO[str], where: str) -> None:
        self._stream = stream
        self._where = where

    def next(self, label: str) -> str:
        """The next line, without its line ending; an error when none is left."""
        line = self._stream.readline()
        if not line:
            raise UnlockError(
                f"no passphrase for {label} left in {self._where}",
                hint="give one passphrase per line, in the order the prompts would ask",
            )
        return line.removesuffix("\n").removesuffix("\r")


@dataclass
class Ctx:
    """What every command gets: where the workspace is and who acts."""

    root: Path
    reviewer: str | None
    _unlocked: ws.Unlocked | None = field(default=None, repr=False)
    passphrases: Passphrases | None = field(default=None, repr=False)

    @property
    def held(self) -> ws.Unlocked | None:
        """The workspace as this command unlocked it, or None before it did."""
        return self._unlocked

    def open(self) -> ws.Workspace:
        """Open the workspace, still locked (enough to verify the audit log)."""
        return ws.Workspace.open(self.root)

    def unlock(self) -> ws.Unlocked:
        """Unlock as the chosen reviewer (or the only one), once per command."""
        if self._unlocked is None:
            workspace = self.open()
            reviewer = self.reviewer
            if reviewer is None:
                ids = workspace.reviewer_ids()
                if len(ids) != 1:
                    raise UnlockError(
                        "several reviewers are enrolled: say who you are",
                        hint=f"--as one of {', '.join(ids)}",
                    )
                reviewer = ids[0]
            unlocked = workspace.unlock(reviewer, ask)
            # A workspace still under an X25519 key is re-sealed under an X-Wing one as soon
            # as every key in service has an X-Wing half (docs/REVIEW.md, "Keys").
            try:
                self._unlocked = upgrade_key(unlocked)
            except (ReviewError, CryptoError, OSError, sqlite3.Error) as exc:
                if moved(unlocked):
                    # Another command re-sealed it as this one started: going on under the
                    # old key would write what the workspace's key no longer opens.
                    raise UnlockError(
                        "the workspace was re-sealed by another raazdar-review as this one started",
                        hint="run the command again",
                    ) from exc
                # One transaction, rolled back: the workspace is as it was, and a damaged
                # blob must not lock its reviewers out. The next command tries again.
                self._unlocked = unlocked
                click.echo(
                    f"{PROG}: warning: the workspace stays under its X25519 key for now:"
                    f" {clean(str(exc))}",
                    err=True,
                )
            if self._unlocked is not unlocked:
                key = self._unlocked.key.ack_key().verify_key.to_text()
                click.echo(
                    f"{PROG}: the workspace is now sealed under a post-quantum (X-Wing) key;"
                    " the server refuses its reply bundles until the administrators give it"
                    f" the new key at its console: `raazdar set-ack-key {key}`",
                    err=True,
                )
        return self._unlocked


def ask(label: str) -> str:
    """A key file's passphrase: from --passphrase-file/--passphrase-fd, else a silent prompt."""
    sensitive.warn_swap()  # what the key file unlocks may be swapped out
    context = click.get_current_context(silent=True)
    c = context.find_object(Ctx) if context is not None else None
    if c is not None and c.passphrases is not None:
        return c.passphrases.next(label)
    value: str = idle.prompt(f"Passphrase for {label}", hide_input=True, err=True)
    return value


def open_passphrases(ctx: click.Context, file: Path | None, fd: int | None) -> Passphrases | None:
    """Open the passphrase source the options name, if any, closed with the command."""
    if file is not None and fd is not None:
        raise click.UsageError("give --passphrase-file or --passphrase-fd, not both")
    if file is not None:
        sensitive.warn_on_disk(file, "the passphrase")
        stream = ctx.with_resource(file.open(encoding="utf-8"))
        return Passphrases(stream, f"--passphrase-file {file}")
    if fd is not None:
        try:
            # The descriptor is the caller's: read from it, leave it open.
            stream = ctx.with_resource(os.fdopen(fd, "r", encoding="utf-8", closefd=False))
        except OSError as exc:
            raise click.BadParameter(
                f"file descriptor {fd} is not open: {exc.strerror}", param_hint="--passphrase-fd"
            ) from exc
        return Passphrases(stream, f"--passphrase-fd {fd}")
    return None


pass_ctx = click.make_pass_decorator(Ctx)


@click.group(cls=Root, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--workspace",
    "-w",
    "root",
    type=click.Path(path_type=Path, file_okay=False),
    envvar="RAAZDAR_WORKSPACE",
    show_envvar=True,
    default=Path("raazdar-workspace"),
    show_default=True,
    help="The workspace directory.",
)
@click.option(
    "--as",
    "reviewer",
    envvar="RAAZDAR_REVIEWER",
    show_envvar=True,
    help="The reviewer to act as (needed when several are enrolled).",
)
@click.option(
    "--passphrase-file",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="Read key file passphrases from FILE, one per line, instead of prompting.",
)
@click.option(
    "--passphrase-fd",
    type=click.IntRange(min=0),
    help="Read key file passphrases from file descriptor N, one per line (as gpg's).",
)
@click.option(
    "--idle-lock",
    type=click.IntRange(1, 60),
    metavar="MINUTES",
    help="End a command left this long at a prompt or in the editor, its draft kept sealed"
    " (default: 5).",
)
@click.pass_context
def cli(
    ctx: click.Context,
    root: Path,
    reviewer: str | None,
    passphrase_file: Path | None,
    passphrase_fd: int | None,
    idle_lock: int | None,
) -> None:
    """Import, decrypt, triage and answer Raazdar reports on an offline workstation.

    Passphrases are prompted; scripts give them one per line in a file or on a
    file descriptor (--passphrase-file, --passphrase-fd), never as an argument
    or an environment variable.
    """
    idle.set_limit(ctx, idle_lock)
    ctx.obj = Ctx(root, reviewer, passphrases=open_passphrases(ctx, passphrase_file, passphrase_fd))


def parse_date(_ctx: click.Context, _param: click.Parameter, value: str | None) -> dt.date | None:
    """Read a YYYY-MM-DD option."""
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter("use YYYY-MM-DD") from exc


def compose(text: str | None, file: Path | None, draft: str | None = None) -> str:
    """Take a note or reply from the argument, a UTF-8 file, or $EDITOR.

    `draft` names what is written (`reply:3`, the command that writes it with `:` for
    spaces): the editor opens on the draft a command that locked left for it, and what
    is written there is sealed as its draft if this command locks (`review.cli.idle`).
    """
    if text is not None and file is not None:
        raise click.UsageError("give the text or --file, not both")
    if file is not None:
        sensitive.warn_on_disk(file, "the text")
        try:
            return file.read_text("utf-8")
        except UnicodeDecodeError as exc:
            raise ReviewError(f"{file} is not UTF-8 text") from exc
    if text is not None:
        return text
    return edit(draft)


def edit(draft: str | None = None) -> str:
    """Compose in $EDITOR without traces (`sensitive.edit_text`); nothing written is an error."""
    initial = ""
    c = click.get_current_context().find_object(Ctx)
    if draft is not None and c is not None:
        initial = idle.opened(draft, c.unlock())
        if initial:
            click.echo(f"{PROG}: the draft left when a command locked opens again", err=True)
    try:
        written = sensitive.edit_text(initial)
    except idle.IdleLocked as locked:
        if draft is not None:
            idle.written(draft, locked.draft)
        raise
    except UnicodeDecodeError as exc:
        raise ReviewError("the text is not UTF-8") from exc
    if draft is not None:
        idle.written(draft, written)
    if not written.strip():
        if draft is not None and initial and c is not None:
            idle.discard(draft, c.unlock())
            raise ReviewError("nothing written: the draft is thrown away")
        raise ReviewError("nothing written: nothing was saved")
    return written


def forbid_core_dumps() -> None:
    """Let no crash write this process's memory (keys, reports, passphrases) to a core file.

    The limit holds for every child too (the editor, the PDF reader); a process
    that is not dumpable is dumped by no crash reporter, whatever core_pattern says,
    but exec makes a child dumpable again: the readers turn it off themselves
    (`pdfchild.confine`), an editor cannot.
    """
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if sys.platform == "linux":
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)


def end_cleanly_on_signals() -> None:
    """A shutdown's SIGTERM or a closed terminal's SIGHUP ends the tool as an error does.

    Killed outright, it would leave the workspace's file times as its reads and
    writes set them; ended this way, an open transaction rolls back and the
    times are set to 0 (`Group.invoke`) before it exits.
    """
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _exit_on_signal)


def _exit_on_signal(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def main() -> None:
    """Run the command line with this tool's error format and exit codes."""
    forbid_core_dumps()
    disk.lock_memory()  # where it may: else the swap is looked at before anything unlocks
    end_cleanly_on_signals()
    # Whatever the tool writes (workspace files, exported attachments) is private.
    os.umask(0o077)
    try:
        result = cli.main(prog_name=PROG, standalone_mode=False)
    except click.exceptions.Abort:
        click.echo(f"{PROG}: error: aborted", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        click.echo(f"{PROG}: error: {clean(exc.format_message())}", err=True)
        click.echo(f"{PROG}: hint: run `{PROG} --help` for usage", err=True)
        sys.exit(exc.exit_code)
    sys.exit(result if isinstance(result, int) else 0)
