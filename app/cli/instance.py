"""`raazdar init` and `raazdar serve`: make an instance, and run it."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from app.cli.base import fail, main, open_carried, reports_errors
from crypto import KdfParams, SignedManifest
from crypto.constants import MANIFEST_MAX_BYTES


@main.command()
@click.option("--demo", is_flag=True, help="Also create demonstration keys (never for real use).")
@click.option(
    "--manifest",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="The first keyring manifest, signed offline; its authority keys are pinned.",
)
@click.option(
    "--database-url",
    help="A database URL (default: SQLite in the instance dir), without a password: "
    "PostgreSQL's client reads it from ~/.pgpass.",
)
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
    from app.operations.setup import initialise

    if demo == (manifest is not None):
        fail(
            "give exactly one of --demo and --manifest FILE",
            "a real instance starts from a manifest made by `raazdar-review keys`",
        )
    if database_url and _has_password(database_url):
        fail(
            "--database-url holds a password: a flag's value stays in the shell's history, "
            "in `ps` and in sudo's log",
            "leave it out of the URL and put it in the raazdar user's ~/.pgpass "
            "(/var/lib/raazdar/.pgpass, mode 0600), which PostgreSQL's client reads; or use "
            "peer authentication over the local socket (deploy/README.md, 2.1)",
        )
    signed = None
    if manifest is not None:
        with open_carried(manifest) as src:
            # One byte more than allowed, so that an oversized file is refused, not truncated.
            signed = SignedManifest.from_bytes(src.read(MANIFEST_MAX_BYTES + 1))
    kdf = KdfParams.TESTING if fast_kdf else KdfParams.INTERACTIVE
    result = initialise(instance, signed=signed, database_url=database_url, kdf=kdf, demo=demo)
    click.echo(f"raazdar: created an instance in {instance}")
    click.echo(f"raazdar: keyring v{result.version} in force until {result.expires}")
    for fp in result.pinned:
        click.echo(f"raazdar: pinned authority key {fp}")
    click.echo(f"raazdar: pins file line: {result.keyring_pin}")
    if demo:
        banner = "!" * 72
        click.echo(banner, err=True)
        click.echo("!! DEMONSTRATION INSTANCE: the reviewer and authority keys are in", err=True)
        click.echo(f"!! {instance / 'demo-keys'} under the passphrase 'demo'.", err=True)
        click.echo("!! Anyone with this directory can read every report. Never use it", err=True)
        click.echo("!! for real reports.", err=True)
        click.echo(banner, err=True)


def _has_password(url: str) -> bool:
    """Whether a database URL carries a password (an unparsable one is refused later)."""
    from app.instance import url_has_password

    return url_has_password(url)


@main.command()
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=8080,
    show_default=True,
    help="Loopback port of the source listener, behind the source onion.",
)
@click.option(
    "--tor",
    "tor_mode",
    type=click.Choice(["auto", "launch", "attach", "private", "off"]),
    default="auto",
    show_default=True,
    help="How to publish the onion service (see `raazdar serve --help`).",
)
@click.option(
    "--staff-port",
    type=click.IntRange(1, 65535),
    help="Loopback port of the staff listener, behind the staff onion [default: PORT + 1].",
)
@click.option("--workers", type=int, help="gunicorn workers (default: from the CPU count).")
@click.option(
    "--socks-port",
    type=click.IntRange(1, 65535),
    help="With --tor private: the SOCKS port into the private network, the same at each start "
    "[default: a free port].",
)
@click.option(
    "--sweep/--no-sweep",
    "sweep_at_start",
    default=True,
    show_default=True,
    help="Run the arrival sweep at start when its period has begun. With several app hosts "
    "sharing one store, give --no-sweep to every host but the one running "
    "raazdar-sweep.timer (deploy/README.md, 2.2).",
)
@click.pass_obj
@reports_errors
def serve(
    instance: Path,
    port: int,
    staff_port: int | None,
    tor_mode: str,
    workers: int | None,
    socks_port: int | None,
    sweep_at_start: bool,
) -> None:
    """Serve the instance: gunicorn on loopback, the source onion and the staff onion.

    Tor modes: `launch` starts a tor of ours on the Tor network; `attach` uses the
    tor at RAAZDAR_TOR_CONTROL (host:port or socket path); `private` builds a
    private Tor network on loopback, for demonstrations without internet; `off`
    serves on loopback only; `auto` picks attach, launch or off.

    The staff onion is published only while at least one device is authorised
    (`raazdar staff-onion add-client`). SIGHUP re-reads the authorised devices
    and re-publishes it under the same address, without a restart.

    Ctrl-C (or SIGTERM) at any moment, start-up included, stops every tor
    started here and gunicorn, prints "stopped" and exits 0.
    """
    from app.operations.serve import serve as run

    status = run(
        instance,
        port=port,
        tor_mode=tor_mode,
        workers=workers,
        staff_port=staff_port,
        socks_port=socks_port,
        sweep_at_start=sweep_at_start,
        say=lambda line: click.echo(f"raazdar: {line}"),
    )
    sys.exit(status)
