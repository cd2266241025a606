"""`raazdar-submit`: a thin command line over the client; errors become messages here only.

Errors are `raazdar-submit: error: …` (and a `hint:` line) with exit status 1;
usage errors exit 2. The codename is prompted without echo each time, or read
from `--codename-file` (`-` for stdin) by scripts; it is never stored, but what
this device remembers is sealed under it (`submit.state`). The report is
written in an editor or read from stdin; as an argument it is accepted with a
warning that shell history keeps it (`submit.sensitive`).
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import unicodedata
from pathlib import Path
from typing import Any, Final

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from crypto import (
    CodenameError,
    CryptoError,
    SourceKeys,
    check_codename,
    derive_source_keys,
    generate_codename,
)
from crypto import constants as C
from crypto.binding import UnheldPrekey
from submit import inbox, sensitive, transport, uploads
from submit import state as state_mod
from submit.connection import (
    PROG,
    TOFU_FLAG,
    UNPINNED_FLAG,
    Settings,
    connected,
    device_state,
    ensure_account,
)
from submit.errors import ServerError, SubmitError, TransportError
from submit.noatime import read_quietly, read_text_quietly
from submit.pins import BOUND, Pins, read_pins
from submit.protocol import MAX_REPLIES, MAX_REPLY_BYTES, NOTICES, Api, ReplyInfo, Waiting
from submit.scrub import Cleaned
from submit.trust import (
    TEST_KDF_FLAG,
    KeyringPin,
    Verified,
    bound_everywhere,
    numbers_seen,
)

MAX_MESSAGE_BYTES: Final = 1024 * 1024


pass_settings = click.make_pass_decorator(Settings)
codename_option = click.option(
    "--codename-file",
    type=click.Path(path_type=Path, dir_okay=False, allow_dash=True),
    help="Read the codename from a file (`-` for stdin) instead of prompting for it.",
)


# Bidi embeddings, overrides and isolates: a few reorder what follows them on the screen,
# across lines the server does not own. The marks (LRM, RLM, ALM) that Urdu needs stay.
_BIDI_CONTROLS: Final = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def clean(text: str) -> str:
    """Text safe for a terminal: no controls but line breaks and tabs, no bidi overrides."""
    return "".join(
        "\ufffd"
        if (unicodedata.category(ch) == "Cc" and ch not in "\n\t") or ch in _BIDI_CONTROLS
        else ch
        for ch in text
    )


# After a refusal in the server's own words: a seized server may use them to send the
# source where it reads what they type (its web page) or to another address or program.
SERVER_WORDS: Final = (
    "the words after \"the server refused:\" are the server's, not this tool's: a server in "
    "the wrong hands chooses them. This tool never asks you to use the web page, another "
    "address or another program instead."
)


def fail(ctx: click.Context, message: str, hint: str | None, note: str | None = None) -> None:
    """Print an error (a hint, a note) in the tool's format and exit with status 1."""
    click.echo(f"{PROG}: error: {clean(message)}", err=True)
    if hint:
        click.echo(f"{PROG}: hint: {clean(hint)}", err=True)
    if note:
        click.echo(f"{PROG}: note: {note}", err=True)
    ctx.exit(1)


class Group(click.Group):
    """A group that turns the client's errors, and its faults, into messages and exit status 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ServerError as exc:
            fail(ctx, str(exc), exc.hint, SERVER_WORDS if exc.quoted else None)
        except SubmitError as exc:
            fail(ctx, str(exc), exc.hint)
        except CodenameError as exc:
            fail(ctx, str(exc), "type the codename as you wrote it down: eight words")
        except CryptoError as exc:
            fail(ctx, str(exc), None)
        except OSError as exc:
            fail(ctx, f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), None)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as exc:
            # A fault nobody foresaw: its message and traceback may hold the report, a reply
            # or a file's name, and the scrollback (or a file stderr goes to) would keep them.
            fail(
                ctx,
                f"an unexpected {type(exc).__name__}: a fault in the tool, not in what you did;"
                " its details are not shown, as they may hold what you wrote or read",
                "tell whoever gave you the tool which command it was",
            )
        return None


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--state",
    "root",
    type=click.Path(path_type=Path, file_okay=False),
    envvar="RAAZDAR_SUBMIT_STATE",
    show_envvar=True,
    default=None,
    help="The directory of pins and unfinished uploads (default: under your config dir).",
)
@click.option(
    "--pins-file",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="Read the instance's address and authority fingerprints from FILE (lines "
    "`instance URL`, `authority FINGERPRINT`, `threshold K`, `keyring VERSION DIGEST`, "
    "`subkeys bound` and `subkeys REVIEWER NUMBER`), e.g. on a stick kept apart from this "
    "device.",
)
@click.option(
    "--instance",
    metavar="URL",
    callback=sensitive.warn_argument,
    help="The instance's onion address, e.g. http://….onion; remembered after first use "
    "(shell history keeps it: prefer --pins-file).",
)
@click.option(
    "--authority",
    "authorities",
    metavar="FINGERPRINT",
    multiple=True,
    help="An authority key fingerprint to pin, from the organisation (repeat for each key). "
    f"Without it or pins, first use trusts the keys the instance publishes only with "
    f"{TOFU_FLAG} or a yes at the terminal.",
)
@click.option(
    TOFU_FLAG,
    "trust_on_first_use",
    is_flag=True,
    help="Without pins, trust the authority keys the instance publishes, unchecked, and pin "
    "them (a server in the wrong hands would have chosen them; without this, a terminal asks).",
)
@click.option(
    UNPINNED_FLAG,
    "accept_unpinned_keyring",
    is_flag=True,
    help="Take a keyring nothing here vouches for (pins naming no keyring and no state, or "
    "a later keyring under another timestamp key): holders rotated out since could have "
    "written it; without this, a terminal asks. Only one the pinned authorities signed as "
    "their first keyring needed. Prefer pins with a current `keyring` line.",
)
@click.option(
    "--threshold",
    type=click.IntRange(min=1),
    help="How many of the pinned authorities must sign the keyring the chain starts from, "
    "from the organisation (default: every one of them).",
)
@click.option(
    "--no-state",
    is_flag=True,
    help="Write nothing on this device: pins come from --pins-file or the options each time, "
    "and a cut upload cannot be resumed by a later run.",
)
@click.option("--fast-kdf", is_flag=True, hidden=True, help="Test-strength Argon2id (tests only).")
@click.option(
    "--socks",
    default=transport.DEFAULT_SOCKS,
    show_default=True,
    metavar="HOST:PORT",
    help="The SOCKS port of a running tor (Tor Browser's is 127.0.0.1:9150).",
)
@click.option("--launch-tor", is_flag=True, help="Start a tor of its own for this run (stem).")
@click.option(
    "--tor-config",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="Extra torrc lines for the tor that --launch-tor starts (bridges, for example).",
)
@click.option(
    "--direct",
    is_flag=True,
    help="Connect without tor, to a loopback address only: for testing against a local server.",
)
@click.option(
    TEST_KDF_FLAG,
    "insecure_test_kdf",
    is_flag=True,
    help="Accept an instance whose keyring sets test-strength codename key derivation "
    "(test instances only: a codename there can be guessed quickly).",
)
@click.pass_context
def cli(
    ctx: click.Context,
    root: Path | None,
    instance: str | None,
    authorities: tuple[str, ...],
    threshold: int | None,
    socks: str,
    launch_tor: bool,
    tor_config: Path | None,
    direct: bool,
    insecure_test_kdf: bool,
    pins_file: Path | None,
    no_state: bool,
    fast_kdf: bool,
    trust_on_first_use: bool,
    accept_unpinned_keyring: bool,
) -> None:
    """Send reports and files to a Raazdar instance, sealed on this device, over Tor."""
    if direct and launch_tor:
        raise click.UsageError("--direct and --launch-tor exclude each other")
    if tor_config is not None and not launch_tor:
        raise click.UsageError("--tor-config is for the tor that --launch-tor starts")
    if no_state and root is not None:
        raise click.UsageError("--no-state writes no state: give --state or --no-state")
    pins = read_pins(pins_file) if pins_file is not None else Pins()
    if pins_file is not None:
        pinned_instance, pinned, pinned_threshold = pins.instance, pins.authorities, pins.threshold
        if instance is not None and pinned_instance is not None and instance != pinned_instance:
            raise click.UsageError("--instance and the pins file name different instances")
        if threshold is not None and pinned_threshold is not None and threshold != pinned_threshold:
            raise click.UsageError("--threshold and the pins file give different thresholds")
        instance = instance or pinned_instance
        authorities = (*authorities, *pinned)
        threshold = threshold or pinned_threshold
    if threshold is not None and not authorities:
        raise click.UsageError("--threshold counts pinned authorities: give them too")
    ctx.obj = Settings(
        root or state_mod.default_root(),
        instance,
        authorities,
        socks,
        launch_tor,
        tor_config,
        direct,
        insecure_test_kdf,
        no_state,
        fast_kdf,
        threshold,
        pins.keyring,
        pins.bound_subkeys,
        trust_on_first_use,
        pins.subkey_floors,
        accept_unpinned_keyring,
    )


# -- helpers --------------------------------------------------------------------


def read_codename(path: Path | None) -> str:
    """The codename: from a file (`-` for stdin), or prompted without echo."""
    if path is None:
        text: str = click.prompt("Codename", hide_input=True, err=True)
    elif str(path) == "-":
        text = sys.stdin.readline()
    else:
        sensitive.warn_on_disk(
            path,
            "the codename",
            "type it at the prompt instead (leave out --codename-file)"
            + sensitive.or_in_memory("keep the file in memory"),
        )
        text = read_text_quietly(path)
    return check_codename(text)


def read_message(message: str | None, path: Path | None) -> str | None:
    """The message: a UTF-8 file (`-` for stdin), the option, or else the editor on a terminal."""
    if message is None and path is None and sys.stdin.isatty():
        try:
            message = sensitive.edit_text()
        except UnicodeDecodeError as exc:
            raise SubmitError("the message is not UTF-8 text") from exc
        if len(message.encode("utf-8")) > MAX_MESSAGE_BYTES:
            raise SubmitError("the message is over 1 MiB", hint="send long texts as a file")
    if path is not None and str(path) != "-":
        sensitive.warn_on_disk(
            path,
            "the report",
            "write it in the editor instead (leave out --message-file), or pipe it in with "
            "--message-file -",
        )
    if path is not None:
        data = sys.stdin.buffer.read() if str(path) == "-" else read_quietly(path)
        if len(data) > MAX_MESSAGE_BYTES:
            raise SubmitError("the message is over 1 MiB", hint="send long texts as a file")
        try:
            message = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SubmitError("the message file is not UTF-8 text") from exc
    if message is None or not message.strip():
        return None
    return message


class _Bar:
    """Upload progress: a rich bar on a terminal, one line at the end otherwise."""

    def __init__(self, console: Console) -> None:
        self._console = console
        self._progress = Progress(
            TextColumn("uploading"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=console,
            disable=not console.is_terminal,
        )
        self._task: TaskID | None = None

    def __enter__(self) -> _Bar:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    def start(self, total: int, done: int) -> None:
        self._task = self._progress.add_task("upload", total=total, completed=done)

    def update(self, done: int) -> None:
        if self._task is not None:
            self._progress.update(self._task, completed=done)

    def waiting(self, seconds: int) -> None:
        self._console.print(
            f"the instance paces large uploads: the next file goes in {seconds} s"
            " (what was sent is kept; Ctrl-C stops, `send --resume` goes on later)"
        )


# -- commands -------------------------------------------------------------------


@cli.command()
@pass_settings
def new(settings: Settings) -> None:
    """Make a new codename on this device and print it (write it down; it is not stored)."""
    codename = generate_codename()
    click.echo(
        "Your new codename is below. Write it down and keep it secret: it is the only way "
        "to send more and to read replies. It is not stored anywhere. Do not copy it or "
        "take a screenshot of it: a phone keeps what was copied, and its screenshots.",
        err=True,
    )
    if (out := sensitive.output_file()) is not None:
        sensitive.warn_on_disk(
            out,
            "the codename",
            "print it to the terminal and write it down" + sensitive.or_in_memory("into memory"),
        )
    click.echo(codename)
    if not settings.no_state and state_mod.codenames_kept(settings.root):
        # Its first run would start from the pins alone, and the device show two accounts.
        click.echo(
            f"{PROG}: note: this device keeps another codename's state: `{PROG} carry "
            "--forget` starts the new one from the instance and keyring that one verified "
            "(a first run from the pins alone takes what it refused as replaced) and removes "
            "it, so the device shows one codename",
            err=True,
        )
    sensitive.erase_once_read("written it down")


@cli.command()
@click.option(
    "--message",
    "-m",
    metavar="TEXT",
    callback=sensitive.warn_argument,
    help="The report's text (shell history keeps it: leave it out to use your editor).",
)
@click.option(
    "--message-file",
    type=click.Path(path_type=Path, dir_okay=False, allow_dash=True),
    help="Read the report's text from a UTF-8 file (`-` for stdin).",
)
@codename_option
@click.option(
    "--language",
    type=click.Choice(["en", "ur"]),
    default="en",
    show_default=True,
    help="The language the report is written in.",
)
@click.option("--resume", is_flag=True, help="Finish an upload an earlier run left unfinished.")
@click.option("--discard", is_flag=True, help="Forget an unfinished upload (nothing is sent).")
@click.option(
    "--retries",
    type=click.IntRange(0, 100),
    default=uploads.RETRIES,
    show_default=True,
    help="How often to resume a chunk after the connection drops, before giving up.",
)
@click.option(
    "--keep-metadata",
    is_flag=True,
    help="Send files exactly as they are, with their names and metadata (a photo's GPS "
    "position, the phone's serial number, a document's author): by default they are removed.",
)
@click.argument("files", nargs=-1, type=click.Path(path_type=Path, dir_okay=False, exists=True))
@pass_settings
def send(
    settings: Settings,
    message: str | None,
    message_file: Path | None,
    codename_file: Path | None,
    language: str,
    resume: bool,
    discard: bool,
    retries: int,
    keep_metadata: bool,
    files: tuple[Path, ...],
) -> None:
    """Seal a report (and FILES) on this device and upload it to the instance.

    Files lose what they say of where, when and on what they were made before
    they are sealed (in memory: no clean copy is written), and camera-style
    names (IMG_20261203_0915.jpg) become neutral ones; --keep-metadata sends
    them as they are.
    """
    if message is not None and message_file is not None:
        raise click.UsageError("give --message or --message-file, not both")
    if str(message_file) == "-" and str(codename_file) == "-":
        raise click.UsageError("the message and the codename cannot both come from stdin")
    new_content = message is not None or message_file is not None or bool(files)
    if (resume or discard) and new_content:
        raise click.UsageError("--resume and --discard take no message or files")
    if keep_metadata and not files:
        raise click.UsageError("--keep-metadata is for files: name them")
    if resume and discard:
        raise click.UsageError("give --resume or --discard, not both")
    if not (resume or discard or new_content or sys.stdin.isatty()):
        raise click.UsageError("nothing to send: give --message-file or files")
    if (out := sensitive.output_file()) is not None:
        # Said before anything is sealed: a terminal's "Sent 1 report" is erased, a file's is
        # not, and it says whoever holds the device reported.
        sensitive.warn_on_disk(
            out,
            "the line saying a report was sent",
            "leave the output on the terminal, which erases it"
            + sensitive.or_in_memory("print it into memory"),
        )
    try:
        codename = read_codename(codename_file)
        with device_state(settings, codename) as state:
            if discard:
                if state.pending is None:
                    raise SubmitError("there is no unfinished upload to discard")
                uploads.discard(state)
                click.echo("The unfinished upload was discarded.", err=True)
                return
            if resume and state.pending is None:
                raise SubmitError("there is no unfinished upload to resume")
            if not resume and state.pending is not None:
                raise SubmitError(
                    "an earlier upload is unfinished",
                    hint="finish it with `raazdar-submit send --resume`, or forget it with "
                    "--discard",
                )
            text = None if resume else read_message(message, message_file)
            if not resume and text is None and not files:
                raise SubmitError("nothing to send: the message is empty")
            with connected(settings, state) as (api, verified, _doc):
                # Before anything is sent: with no subkey for this week, nothing is sealed at all.
                today = dt.datetime.now(dt.UTC).date()
                recipients = None if resume else verified.recipients(today)
                if resume:
                    # Sealed before a revocation or a re-key: not for the keys in force now.
                    uploads.check_still_sealed_right(
                        state, verified.manifest, verified.subkeys, today
                    )
                keys = derive_source_keys(codename, verified.salt, verified.kdf)
                ensure_account(api, keys, state)
                if not resume:
                    report = uploads.report_bytes(text, language) if text is not None else None
                    uploads.seal_submission(
                        state,
                        verified.manifest,
                        report,
                        list(files),
                        keys=keys,
                        recipients=recipients,
                        keep_metadata=keep_metadata,
                        told=_tell_cleaned,
                    )
                pending = state.pending
                assert pending is not None  # noqa: S101 - sealed above, or checked for --resume
                kinds = [i.kind for i in pending.items]
                with _Bar(Console(stderr=True)) as bar:
                    stored = uploads.upload_pending(api, keys, state, progress=bar, retries=retries)
        reports, attached = kinds.count("report"), kinds.count("file")
        parts = ([f"{reports} report"] if reports else []) + (
            [f"{attached} file(s)"] if attached else []
        )
        click.echo(f"Sent {' and '.join(parts)}: {len(stored)} envelope(s) stored, sealed.")
        for path in files:
            # Sealing copied it: the file itself, and a gallery's cloud copy of a photo, remain.
            click.echo(
                f"{PROG}: note: {path} is still on this device, where whoever takes it finds it "
                "(a photo also in the gallery, and in any copy of it in the cloud): remove it "
                "there if it must not be found",
                err=True,
            )
    finally:
        # The command typed (a report given with -m in it, the files' names), the notes
        # above and "Sent": erased whether the run sent them or ended in an error (the
        # error is printed after).
        sensitive.erase_once_read("read this")


def _tell_cleaned(path: Path, cleaned: Cleaned) -> None:
    """Say what a file lost before it was sealed, or that it goes with everything it carries."""
    if cleaned.data is None:
        click.echo(
            f"{PROG}: warning: {path.name} goes exactly as it is, with its name and whatever it "
            "says of where, when and on what it was made (--keep-metadata)",
            err=True,
        )
    elif cleaned.removed:
        goes = f" It goes as {cleaned.name}." if cleaned.name != path.name else ""
        click.echo(
            f"{PROG}: note: removed from {path.name} before sealing: "
            f"{'; '.join(cleaned.removed)}.{goes}",
            err=True,
        )


@cli.command()
@codename_option
@click.option(
    "--delete",
    is_flag=True,
    help="Delete each reply from the server once it is shown here (a reply left there "
    "tells whoever seizes the server that the reviewers answered you).",
)
@click.option(
    "--delete-all",
    is_flag=True,
    help="Delete every reply from the server without fetching or showing any (a checkpoint "
    "ahead: whoever takes the device and the codename reads every reply left there). "
    "Unread ones are lost for good.",
)
@pass_settings
def replies(settings: Settings, codename_file: Path | None, delete: bool, delete_all: bool) -> None:
    """Fetch the replies to your reports and open them on this device."""
    if delete and delete_all:
        raise click.UsageError("give --delete or --delete-all, not both")
    codename = read_codename(codename_file)
    if delete_all:
        _delete_every_reply(settings, codename)
        return
    if (out := sensitive.output_file()) is not None:
        # Said before anything is fetched: a forward-secret reply's key is deleted here as
        # it is shown, but not this copy of its text.
        sensitive.warn_on_disk(
            out,
            "the replies' text (a forward-secret one's too: its key is deleted here, this "
            "copy of it is not)",
            "read them on the terminal" + sensitive.or_in_memory("print them into memory"),
        )
    listed = False
    try:
        with (
            device_state(settings, codename) as state,
            connected(settings, state) as (api, verified, _doc),
        ):
            keys = derive_source_keys(codename, verified.salt, verified.kdf)
            ensure_account(api, keys, state)
            with api.within():
                listing = api.replies(keys)
                listed = True
                failed = _show_replies(
                    api,
                    keys,
                    state,
                    verified,
                    listing,
                    delete=delete,
                    tell_unheld=not settings.no_state,
                )
    except ServerError as exc:
        if exc.status in (408, 503) and exc.hint is None:
            # Busy for now (this circuit past its pace, the server's storage or database):
            # the replies stay on the server.
            exc.hint = f"the replies stay on the server: run `{PROG} replies` again {_later(exc)}"
        raise
    finally:
        # Whatever the listing showed: a reply, or only "No replies yet." above the status
        # the reviewers set (which says its owner reported), and also when a server failing
        # the next reply cuts the run short.
        if listed:
            sensitive.erase_once_read("read this")
    if failed:
        raise SubmitError(
            f"{failed} reply(ies) did not verify against the reviewers' keys",
            hint="they may have been altered on the server; they were not shown",
        )


def _delete_every_reply(settings: Settings, codename: str) -> None:
    """Delete every reply the server lists for the codename, none of them fetched or shown."""
    deleted = 0
    with (
        device_state(settings, codename) as state,
        connected(settings, state) as (api, verified, _doc),
    ):
        keys = derive_source_keys(codename, verified.salt, verified.kdf)
        ensure_account(api, keys, state)
        tried: set[str] = set()
        with api.within():
            # A listing names the newest MAX_REPLIES: list again until none is left. One
            # listed again once tried ends it: a server in the wrong hands listing the same
            # reply for ever would hold the device on tor until the run's deadline.
            while listed := [r for r in api.replies(keys).replies if r.id not in tried]:
                tried.update(r.id for r in listed)
                deleted += sum(api.delete_reply(keys, r) for r in listed)
    click.echo(f"{PROG}: {deleted} replies deleted from the server, unread", err=True)
    # The count says the reviewers answered whoever holds the phone, and how often.
    sensitive.erase_once_read("read this")


# At most this many replies a run says, signed, it cannot open: as many as one report's
# one-time keys. A server listing reviewers' replies to other sources' keys (it holds
# them all) made the device sign one over each, up to MAX_REPLIES a run. A wiped device's
# lost replies stay listed and are told on the next runs; the first told already retires
# the keys filed with it or before (docs/PROTOCOL.md §5A.9).
UNHELD_PER_RUN: Final = C.REPLY_PREKEYS
# Said of a reply read here that the server had stopped listing and lists again.
RELISTED: Final = (
    ". The server had stopped listing it and lists it again: a server in the wrong hands "
    "may do this to make this device sign that it cannot open it; it does not"
)
# What to do when a reply's keyring is not the one the server showed this device.
FORKED_HINT: Final = (
    "send nothing more through this server until the organisation confirms its keyring by "
    "another channel; ask it for current pins (`keyring VERSION DIGEST`), and tell it what "
    "you sent"
)
# Said of a reply to a key not held when the state does not know every key it deleted.
UNSURE: Final = (
    "; the reviewers are not told: this device's state does not know every one-time key "
    "it deleted (it was kept by an older version, or outgrew its record), so it cannot "
    "say that it never held this one"
)


def _later(exc: ServerError) -> str:
    """When the server said to come again, in words (a minute, if it did not say)."""
    if exc.retry_after is None or exc.retry_after > 3600:
        return "in a minute"
    return f"in {max(exc.retry_after, 1)} s"


def _show_replies(
    api: Api,
    keys: SourceKeys,
    state: state_mod.State,
    verified: Verified,
    listing: Waiting,
    *,
    delete: bool = False,
    tell_unheld: bool = False,
) -> int:
    """Fetch, open and print the replies `listing` names; return how many did not verify.

    With `tell_unheld` (a run with state: a `--no-state` run holds only its own
    prekeys), a reviewer's reply sealed to a prekey this device never held is
    reported to the server, signed, so the reviewers learn it will not be read here.

    With `delete`, each is deleted from the server once shown (and a copy of it
    listed again), never one that was not shown.

    The whole run is bounded (`Api.within`): past it, the replies not yet
    fetched stay on the server for the next run, and the error says how many.
    """
    waiting = listing.replies
    if listing.left_out:
        click.echo(
            f"{PROG}: warning: the server lists {listing.left_out} older reply(ies) beyond "
            f"the newest {len(waiting)}, more than one run fetches "
            f"({MAX_REPLIES}, {MAX_REPLY_BYTES // 2**20} MiB in all): not fetched",
            err=True,
        )
    trusted = verified.reviewer_signing_keys()
    names = {r.signing_key: r.name for r in verified.manifest.recipients}
    # Each keyring the server showed this run, the one in force last.
    shown_chain = [m for m in verified.history if m.version < verified.manifest.version]
    shown_chain.append(verified.manifest)
    failed = 0
    shown: list[int] = []
    if not waiting:
        click.echo("No replies yet.", err=True)
    # A server may list one envelope under two ids: it is shown once.
    this_run: dict[str, int] = {}
    gone = _Deleter(api, keys) if delete else None
    # What the server still holds of what it listed: the device keeps in mind as read
    # here only the one-time keys of replies in it (`inbox.still_listed`).
    left: dict[str, bytes] = {}
    # Statements signed this run that a reply cannot be opened here (`UNHELD_PER_RUN`).
    statements = 0
    for number, info in enumerate(waiting, 1):
        try:
            envelope = api.reply(keys, info)
        except TransportError as exc:
            raise TransportError(
                f"{exc}: {len(waiting) - number + 1} of {len(waiting)} reply(ies) not fetched",
                hint="they stay on the server: run `raazdar-submit replies` again later",
            ) from exc
        left[info.id] = envelope
        name = inbox.digest(envelope)
        if name in this_run:
            click.echo(
                f"--- reply {number} of {len(waiting)}, listed under {info.day}: the same "
                f"reply as reply {this_run[name]}, listed again by the server: not shown twice"
            )
            if gone is not None and gone(info):
                del left[info.id]
            continue
        this_run[name] = number
        try:
            reply = inbox.open_reply(state, keys.private_key, envelope, trusted)
        except inbox.AlreadyRead as exc:
            click.echo(
                f"--- reply {number} of {len(waiting)}, listed under {info.day}: read before "
                "here (its one-time key was deleted, so nothing opens it again)"
                + (RELISTED if exc.relisted else ""),
            )
            if gone is not None and gone(info):
                del left[info.id]
            continue
        except inbox.NotHeld as exc:
            later = tell_unheld and exc.certain and statements == UNHELD_PER_RUN
            told = tell_unheld and exc.certain and not later
            if told:
                statements += 1
                told = _tell_unheld(api, keys, info, envelope)
            click.echo(
                f"--- reply {number} of {len(waiting)}, listed under {info.day}: sealed to a "
                "one-time key this device never held: sent to a --no-state run or to another "
                "device (or this device's state was put back from a copy): nothing here opens "
                "it, and it is left on the server"
                + ("; the reviewers are told it was not read here" if told else "")
                + (
                    f"; the reviewers are told on a later run (one tells of at most "
                    f"{UNHELD_PER_RUN})"
                    if later
                    else ""
                )
                + (UNSURE if tell_unheld and not exc.certain else ""),
            )
            continue
        except (CryptoError, UnicodeDecodeError):
            failed += 1
            click.echo(
                f"{PROG}: warning: reply {number} ({info.day}) did not verify: not shown",
                err=True,
            )
            continue
        who = names.get(reply.signer, "a reviewer") if reply.signer else "a reviewer"
        sealed = (
            "forward-secret: its one-time key is now deleted"
            if reply.forward_secret
            else "NOT forward-secret: sealed to your codename's key"
        )
        first = info.day if reply.forward_secret else inbox.first_listed(state, envelope, info.day)
        if first != info.day:
            click.echo(
                f"{PROG}: warning: reply {number} was first shown here under {first}; the "
                f"server now lists it under {info.day}: it is that old reply, not a new one",
                err=True,
            )
        if reply.written is not None:
            # Sealed and signed on the workstation: the server's listing cannot move it.
            day = f"written {reply.written}"
            doubt = inbox.listing_doubt(reply.written, info.day)
            if doubt:
                click.echo(f"{PROG}: warning: reply {number}: {doubt}", err=True)
        else:
            # Nothing vouches for a day of this reply's: the server's is named as the server's.
            day = (
                f"undated (the server lists it under {first})"
                if first == info.day
                else f"undated (first shown here under {first})"
            )
            click.echo(
                f"{PROG}: note: reply {number} was written before replies carried their "
                f"day: {info.day} is the day the server lists it under, which it could change",
                err=True,
            )
        forked = (
            inbox.keyring_doubt(reply.keyring, shown_chain) if reply.keyring is not None else None
        )
        if forked:
            click.echo(f"{PROG}: warning: reply {number}: {forked}", err=True)
            click.echo(f"{PROG}: hint: {FORKED_HINT}", err=True)
        click.echo(f"--- reply {number} of {len(waiting)}, {day}, from {clean(who)} ({sealed})")
        click.echo(clean(reply.text))
        shown.append(number)
        if gone is not None and gone(info):
            del left[info.id]
    if not listing.left_out:
        inbox.still_listed(state, left.values())
    if listing.notice is not None:
        click.echo(
            f"--- status: {listing.notice}: {NOTICES[listing.notice]} (the server's word: no "
            "signature covers it, unlike a reply)"
        )
    if gone is not None and gone.count:
        click.echo(f"{PROG}: {gone.count} reply(ies) deleted from the server", err=True)
    elif shown:
        click.echo(
            f"{PROG}: note: the replies shown stay on the server, which tells whoever seizes "
            "it that the reviewers answered you: `raazdar-submit replies --delete` deletes "
            "each once it is shown",
            err=True,
        )
    return failed


def _tell_unheld(api: Api, keys: SourceKeys, info: ReplyInfo, envelope: bytes) -> bool:
    """Sign and send that this device holds none of the reply's one-time keys."""
    told = False
    for key_id in inbox.one_time_keys(envelope):
        statement = UnheldPrekey.make(bytes.fromhex(key_id), keys.signing_key)
        told = api.unheld_reply(keys, info, statement) or told
    return told


class _Deleter:
    """Delete replies shown from the server, one by one as they are shown; count them."""

    def __init__(self, api: Api, keys: SourceKeys) -> None:
        self._api = api
        self._keys = keys
        self.count = 0

    def __call__(self, info: ReplyInfo) -> bool:
        """Delete one reply; True if the server no longer holds it."""
        try:
            if self._api.delete_reply(self._keys, info):
                self.count += 1
            return True
        except TransportError as exc:
            raise TransportError(
                f"{exc}: a reply shown was not deleted from the server",
                hint="run `raazdar-submit replies --delete` again to delete it",
            ) from exc


@cli.command()
@codename_option
@pass_settings
def pins(settings: Settings, codename_file: Path | None) -> None:
    """Print what this codename pinned, as a pins file (for --pins-file, e.g. with --no-state)."""
    codename = read_codename(codename_file)
    with device_state(settings, codename) as state:
        if state.instance is None:
            raise SubmitError(
                "nothing is pinned here for this codename",
                hint="pin an instance first: `raazdar-submit --pins-file FILE replies`",
            )
        lines = [
            "# Raazdar pins: keep this file apart from the device",
            f"instance {state.instance}",
        ]
        # Keys trusted on first use are the server's word: printed as pins, a device given
        # them would trust them without the warning. Left as comments, they warn it again.
        unchecked = "# (trusted on first use, never checked: compare) " if state.tofu else ""
        if unchecked:
            lines.append(
                "# The authority keys below were trusted on first use: the instance's word, "
                "which nobody checked. Compare them with the organisation's before using them."
            )
        lines += [f"{unchecked}authority {fp}" for fp in sorted(state.authorities, key=str)]
        if state.manifest is not None:
            # The newest keyring verified here: a device given these pins refuses any
            # keyring that does not follow from it (a fork by authorities rotated out since).
            lines.append(f"{unchecked}keyring {KeyringPin.of(state.manifest.manifest)}")
            if bound_everywhere(state.manifest.manifest, state.subkeys):
                # Every reviewer's list sealed to here names the instance: one that names
                # none, served to a device with these pins, is a replay.
                lines.append(f"subkeys {BOUND}")
            # Each reviewer's newest numbered list sealed to here: an older one, served to a
            # device with these pins, is a replay (a list replaced after a leak, say).
            lines += [f"subkeys {rid} {n}" for rid, n in numbers_seen(state)]
    _warn_pins_kept_here(settings.root)
    click.echo("\n".join(lines))
    sensitive.erase_once_read("copied them")


def _warn_pins_kept_here(root: Path) -> None:
    """Warn when the pins go into a file on the filesystem the state is on: the device's own.

    They name the instance, which the sealed state keeps from whoever takes the device.
    A stick or a card is another filesystem; so is memory (/dev/shm on a Linux computer).
    """
    out = sensitive.output_file()
    try:
        here = out is not None and os.stat(out).st_dev == os.stat(root).st_dev
    except OSError:
        return
    if here:
        click.echo(
            f"{PROG}: warning: {out} is on this device's own storage: the pins name the "
            "instance, which the sealed state keeps from whoever takes the device, and "
            "removing the file frees its blocks without overwriting them; write them to a "
            f"stick or card kept apart from it, or start a new codename here with `{PROG} carry`",
            err=True,
        )


@cli.command()
@codename_option
@click.option(
    "--to-codename-file",
    type=click.Path(path_type=Path, dir_okay=False, allow_dash=True),
    help="Read the new codename from a file (`-` for stdin) instead of prompting for it.",
)
@click.option(
    "--forget",
    "forget_old",
    is_flag=True,
    help="Then forget the codename carried from (its reply keys go: read its replies first), "
    "so the device shows one codename.",
)
@pass_settings
def carry(
    settings: Settings, codename_file: Path | None, to_codename_file: Path | None, forget_old: bool
) -> None:
    """Start a new codename from what this one pinned and verified (instance, pins, keyring).

    Without it, a new codename's first run starts from the pins file alone, and takes a
    keyring or a reviewer's subkey list this device already refused as replaced.
    """
    if settings.no_state:
        raise click.UsageError("--no-state keeps nothing to carry")
    if str(codename_file) == "-" and str(to_codename_file) == "-":
        raise click.UsageError("the two codenames cannot both come from stdin")
    try:
        _carry(settings, codename_file, to_codename_file, forget_old=forget_old)
    finally:
        # "Carried", "Forgotten": on the screen of a phone taken unlocked, that its owner had a
        # codename, and just changed it.
        sensitive.erase_once_read("read this")


def _carry(
    settings: Settings,
    codename_file: Path | None,
    to_codename_file: Path | None,
    *,
    forget_old: bool,
) -> None:
    """Carry the state of one codename to another, as `carry` is asked, and say what was done."""
    codename = read_codename(codename_file)
    if to_codename_file is None:
        text: str = click.prompt("New codename", hide_input=True, err=True)
        new_codename = check_codename(text)
    else:
        new_codename = read_codename(to_codename_file)
    with device_state(settings, codename) as state:
        vault = state_mod.device_vault(settings.root, new_codename, fast=settings.fast_kdf)
        carried = state_mod.carry(state, vault, forget=forget_old)
    if carried is None:
        click.echo(
            "Nothing left to do: the old codename keeps nothing on this device, and the new "
            "one keeps its state (a `carry --forget` cut short had carried it).",
            err=True,
        )
        return
    click.echo(
        "Carried: the new codename starts from the instance, pins and keyring this device "
        "verified; no pins file is needed for it.",
        err=True,
    )
    if forget_old:
        click.echo("Forgotten: this device keeps nothing for the old codename now.", err=True)


@cli.command()
@codename_option
@pass_settings
def forget(settings: Settings, codename_file: Path | None) -> None:
    """Remove everything this codename keeps on the device: pins, keyring, unfinished uploads."""
    if settings.no_state:
        raise click.UsageError("--no-state keeps nothing to forget")
    try:
        _forget(settings, codename_file)
    finally:
        # "Forgotten" on the screen of a phone taken unlocked: its owner had a codename.
        sensitive.erase_once_read("read this")


def _forget(settings: Settings, codename_file: Path | None) -> None:
    """Forget one codename's state, remove the directory with the last, and say what is left."""
    codename = read_codename(codename_file)
    with device_state(settings, codename) as state:
        kept = state.path is not None and state.path.exists()
        state.forget()
        # The last codename gone, the directory, its salt and lock go too: they date the first use.
        gone = state_mod.remove_if_unused(settings.root)
        others = 0 if gone else state_mod.codenames_kept(settings.root)
    if not kept and others:
        # Another codename (one mistyped, or an old one still on paper) forgot nothing: told
        # "Forgotten", the source went on with the state of the one she used on the device.
        raise SubmitError(
            f"this codename kept nothing on this device, and {_other_codenames(others)} a "
            "state here",
            hint="type the codename you used on this device: each state opens with its own "
            "codename only, and goes only with it",
        )
    click.echo("Forgotten: this device keeps nothing for that codename now.", err=True)
    if gone:
        click.echo(f"No other codename kept anything here: {settings.root} is removed.", err=True)
    elif others:
        click.echo(
            f"{PROG}: note: {_other_codenames(others)} a state here: forget each with its "
            f"own codename (the last one removes {settings.root})",
            err=True,
        )


def _other_codenames(count: int) -> str:
    """`1 other codename keeps`, `2 other codenames keep`."""
    return f"{count} other codename keeps" if count == 1 else f"{count} other codenames keep"


def main() -> None:
    """Run the command line with this tool's error format and exit codes."""
    sensitive.forbid_core_dumps()
    sensitive.stop_cleanly_on_hangup()
    sensitive.sweep_left_scratch()
    # Whatever the client writes (state, sealed envelopes) is the user's alone.
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
