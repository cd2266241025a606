"""`raazdar server-info`: what the review workstation pins, printed and as a file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from app.cli.base import app_context, main, reports_errors


@main.command("server-info")
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write it as a file for `raazdar-review workspace init --server-info FILE`.",
)
@click.pass_obj
@reports_errors
def server_info(instance: Path, out: Path | None) -> None:
    """Print the instance id, server signing key and fingerprint, keyring and onions.

    Nothing in it is secret: the private signing key stays on the server. Read
    the fingerprint aloud against what `raazdar-review workspace init` prints.
    """
    from app.instance import InstancePaths, load_config
    from app.operations.keyring_admin import describe
    from app.operations.rotation import server_info as describe_server

    paths = InstancePaths(instance)
    with app_context(instance):
        keyring = describe().in_force
    info = describe_server(
        paths,
        load_config(paths),
        keyring.version if keyring else None,
        tuple(a.fingerprint for a in keyring.authorities) if keyring else (),
    )
    for line in lines(info, keyring.digest if keyring else None):
        click.echo(line)
    if keyring is not None:
        click.echo(SERVERS_WORD, err=True)
    if out is not None:
        out.write_text(json.dumps(info, indent=2) + "\n", "utf-8")
        click.echo(f"raazdar: wrote {out}: carry it to the review workstation", err=True)


SERVERS_WORD = (
    "raazdar: note: the keyring pin and authority lines above are this server's word: whoever "
    "holds the server prints a keyring and authorities of their own here, and a source pinning "
    "them trusts the server. Hand sources the `keyring` line and the authority fingerprints "
    "that `raazdar-review keys show` gives on the review workstation (or the key ceremony's "
    "printed record), and check these against them"
)


def lines(info: dict[str, Any], digest: str | None = None) -> list[str]:
    """The server info as aligned `name  value` lines; with the digest of the keyring in
    force, its `keyring pin` too: what a source's pins name (docs/submit.md, the pins file)."""
    version = info["keyring_version"]
    authorities: list[str] = info["authorities"]
    onions: list[str] = info["onions"]
    result = [
        f"instance id            {info['instance_id']}",
        f"server key             {info['server_key']}",
        f"server key fingerprint {info['server_key_fingerprint']}",
        f"keyring version        {version if version is not None else 'none in force'}",
    ]
    if version is not None and digest:
        result.append(f"keyring pin            {version} {digest}")
    result += [f"authority              {fp}" for fp in authorities]
    result += [f"onion                  {onion}" for onion in onions]
    return result
