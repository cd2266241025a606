"""`raazdar`: the server's admin command line. Logic lives in services; this only talks."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from app.config import DEFAULT_INSTANCE
from app.errors import AppError
from crypto import CryptoError, KdfParams, SignedManifest

F = TypeVar("F", bound=Callable[..., Any])


def fail(message: str, hint: str | None = None) -> NoReturn:
    """Print `raazdar: error: …` (and a hint) and exit 1."""
    click.echo(f"raazdar: error: {message}", err=True)
    if hint:
        click.echo(f"raazdar: hint: {hint}", err=True)
    sys.exit(1)


def reports_errors(command: F) -> F:
    """Turn the project's errors into messages and exit codes, in one place."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except (AppError, CryptoError) as exc:
            fail(str(exc))
        except OSError as exc:
            fail(f"{exc.strerror or exc}: {exc.filename}" if exc.filename else str(exc))

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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


@main.command()
@click.option("--demo", is_flag=True, help="Also create demonstration keys (never for real use).")
@click.option(
    "--manifest",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="The first keyring manifest, signed offline; its authority keys are pinned.",
)
@click.option("--database-url", help="A database URL (default: SQLite in the instance dir).")
@click.option(
    "--fast-kdf",
    is_flag=True,
    hidden=True,
    help="Use the fast test key derivation (test suites only; production refuses it).",
)
@click.pass_obj
@reports_errors
def init(
    instance: Path, demo: bool, manifest: Path | None, database_url: str | None, fast_kdf: bool
) -> None:
    """Create an instance: config, secret and signing keys, database, keyring."""
    from app.setup import initialise

    if demo == (manifest is not None):
        fail(
            "give exactly one of --demo and --manifest FILE",
            "a real instance starts from a manifest made by `raazdar-review keys`",
        )
    signed = SignedManifest.from_bytes(manifest.read_bytes()) if manifest else None
    kdf = KdfParams.TESTING if fast_kdf else KdfParams.INTERACTIVE
    result = initialise(instance, signed=signed, database_url=database_url, kdf=kdf, demo=demo)
    click.echo(f"raazdar: created an instance in {instance}")
    click.echo(f"raazdar: keyring v{result.version} in force until {result.expires}")
    for fp in result.pinned:
        click.echo(f"raazdar: pinned authority key {fp}")
    if demo:
        banner = "!" * 72
        click.echo(banner, err=True)
        click.echo("!! DEMONSTRATION INSTANCE: the reviewer and authority keys are in", err=True)
        click.echo(f"!! {instance / 'demo-keys'} under the passphrase 'demo'.", err=True)
        click.echo("!! Anyone with this directory can read every report. Never use it", err=True)
        click.echo("!! for real reports.", err=True)
        click.echo(banner, err=True)


@main.command()
@click.option("--port", default=8080, show_default=True, help="Loopback port for gunicorn.")
@click.option(
    "--tor",
    "tor_mode",
    type=click.Choice(["auto", "launch", "attach", "private", "off"]),
    default="auto",
    show_default=True,
    help="How to publish the onion service (see `raazdar serve --help`).",
)
@click.option("--workers", type=int, help="gunicorn workers (default: from the CPU count).")
@click.pass_obj
@reports_errors
def serve(instance: Path, port: int, tor_mode: str, workers: int | None) -> None:
    """Serve the instance: gunicorn on loopback and the source onion service.

    Tor modes: `launch` starts a tor of ours on the Tor network; `attach` uses the
    tor at RAAZDAR_TOR_CONTROL (host:port or socket path); `private` builds a
    private Tor network on loopback, for demonstrations without internet; `off`
    serves on loopback only; `auto` picks attach, launch or off.
    """
    from app.serve import serve as run

    status = run(
        instance,
        port=port,
        tor_mode=tor_mode,
        workers=workers,
        say=lambda line: click.echo(f"raazdar: {line}"),
    )
    sys.exit(status)


def _app_context(instance: Path) -> Any:
    """An app for `instance`, for commands that use the services."""
    from app import create_app
    from app.config import config_for

    return create_app(config_for(instance)).app_context()


@main.command()
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Where to write the bundle (for the USB stick).",
)
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Export every item received since this day, exported or not.",
)
@click.pass_obj
@reports_errors
def export(instance: Path, out: Path, since: Any) -> None:
    """Write a signed export bundle of new items for the review workstation."""
    from app.db import db_session
    from app.services.exchange import export_bundle

    if out.exists():
        fail(f"{out} exists", "choose a new file name: a bundle is never overwritten")
    partial = out.with_name(f".{out.name}.part")
    with _app_context(instance):
        try:
            with partial.open("xb") as dst:
                summary = export_bundle(db_session(), dst, since=since.date() if since else None)
            partial.rename(out)
        finally:
            partial.unlink(missing_ok=True)
    click.echo(
        f"raazdar: exported {summary.items} item(s) from {summary.sources} source(s) "
        f"to {out} (bundle {summary.bundle_id})"
    )


@main.command("import-replies")
@click.argument("bundle", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.pass_obj
@reports_errors
def import_replies(instance: Path, bundle: Path) -> None:
    """Apply a reply bundle from the review workstation: replies, acknowledgements, notices."""
    from app.db import db_session
    from app.services.exchange import apply_reply_bundle

    with _app_context(instance), bundle.open("rb") as src:
        summary = apply_reply_bundle(db_session(), src)
    click.echo(
        f"raazdar: bundle {summary.bundle_id}: {summary.replies} reply(ies) posted, "
        f"{summary.deleted} acknowledged item(s) deleted, {summary.notices} notice(s) set"
    )
    for reason in summary.refused:
        click.echo(f"raazdar: refused {reason}", err=True)
    if summary.refused:
        sys.exit(1)
