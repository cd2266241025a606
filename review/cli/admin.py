"""Commands that set up the workspace and read its audit log: init, enrol, audit."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from crypto import Fingerprint, KeyFile, SignedManifest, VerifyKey
from crypto.constants import MANIFEST_MAX_BYTES
from crypto.errors import CryptoError
from review import workspace as ws
from review.casework import conflicts
from review.cli import groups, paging
from review.cli.base import PROG, Ctx, ask, pass_ctx, read_carried, read_key_file
from review.errors import ReviewError
from review.intake.server_info import MAX_BYTES as SERVER_INFO_MAX_BYTES
from review.intake.server_info import ServerInfo
from review.keys.enrolment import enrol_key, init_workspace
from review.keys.keyring import init_pins
from review.present.text import safe
from review.workspace import audit


@groups.workspace.command()
@click.option(
    "--instance-id",
    help="The instance id (32 hex digits); taken from --keyring when it lists the instance.",
)
@click.option(
    "--server-key",
    help="The server's bundle signing key (rz-ed25519-public:…); taken from --keyring when it "
    "lists the instance.",
)
@click.option(
    "--authority",
    "authorities",
    multiple=True,
    help="An authority key fingerprint to pin (repeat for each).",
)
@click.option(
    "--key-file",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="The first reviewer's key file.",
)
@click.option("--reviewer", required=True, help="The first reviewer's id, as in the keyring.")
@click.option("--name", help="The first reviewer's name (default: the key file's label).")
@click.option(
    "--keyring",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="The first keyring (keyring-v1.json): installed, and its authorities pinned.",
)
@click.option(
    "--server-info",
    "server_info",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="The file `raazdar server-info --out FILE` wrote: the instance id, server key and "
    "authorities, so nothing is typed.",
)
@click.option(
    "--threshold",
    type=click.IntRange(min=1),
    help="How many of the pinned authorities must sign the first keyring installed here, "
    "from the organisation's record (default: every one of them, as at the founding "
    "ceremony; give it for a workspace started after a rotation).",
)
@pass_ctx
def init(
    c: Ctx,
    instance_id: str | None,
    server_key: str | None,
    authorities: tuple[str, ...],
    key_file: Path,
    reviewer: str,
    name: str | None,
    keyring: Path | None,
    server_info: Path | None,
    threshold: int | None,
) -> None:
    """Create a workspace, pin the server key and authorities, enrol the first reviewer."""
    try:
        first = (
            SignedManifest.from_bytes(read_carried(keyring, MANIFEST_MAX_BYTES, "a keyring"))
            if keyring
            else None
        )
        pins = tuple(Fingerprint.parse(a) for a in authorities)
        if server_info is not None:
            info = read_server_info(server_info)
            instance_id, server_key, pins = merge_server_info(
                info, instance_id, server_key, pins, first
            )
        if first is not None and not pins:
            pins = tuple(a.key.fingerprint for a in first.manifest.authorities)
            for fp in pins:
                click.echo(f"pinning authority {fp}: compare it with the ceremony's record")
        pinned_id, pinned_key = init_pins(first, instance_id, server_key)
        pinned = ws.Pinned(
            instance_id=pinned_id, server_key=pinned_key, authorities=pins, threshold=threshold
        )
    except CryptoError as exc:
        raise ReviewError(f"bad pinned key: {exc}") from exc
    if threshold is not None and threshold > len(set(pins)):
        raise ReviewError(
            f"--threshold {threshold} asks more signatures than the {len(set(pins))} pinned"
            " authorities can give: nothing was created",
            hint="give the threshold of the authority set you pin, from the ceremony's record",
        )
    if pins:
        click.echo(
            f"the first keyring installed here needs {pinned.signers} of the"
            f" {len(set(pins))} authorities' signatures"
        )
    click.echo(
        f"server key fingerprint {pinned.server_key.fingerprint}: read it aloud against "
        "`raazdar server-info` on the server"
    )
    if len(pinned.instance_id) != 32 or set(pinned.instance_id) - set("0123456789abcdef"):
        raise ReviewError("the instance id is 32 hex digits")
    data = read_key_file(key_file)
    file = KeyFile.from_bytes(data)
    label = file.label
    warn_test_grade(file)
    init_workspace(
        c.root,
        pinned,
        reviewer=reviewer,
        name=name or label,
        key_file=data,
        passphrase=ask(label),
        keyring=first,
    )
    click.echo(f"created a workspace at {c.root}, with reviewer {reviewer}")


def warn_test_grade(file: KeyFile) -> None:
    """Warn of a key file whose passphrase only the tests' Argon2id work guards.

    A seizer who copies it from `keys/` tries passphrases against it offline;
    with that work each try costs almost nothing.
    """
    if file.kdf.is_testing:
        click.echo(
            f"{PROG}: warning: the key file {file.label!r} guards its keys with test-grade"
            f" Argon2id ({file.kdf.mem >> 10} KiB, {file.kdf.ops} pass(es)): whoever copies it"
            " from this disk can try passphrases against it many thousand times faster than"
            " against one `keys reviewer-new` makes",
            err=True,
        )
        click.echo(
            f"{PROG}: hint: make the key file again with `keys reviewer-new` (no --fast-kdf), or"
            " replace it later with `keys rotate`",
            err=True,
        )


def read_server_info(path: Path) -> ServerInfo:
    """Read the file `raazdar server-info --out` wrote, or say why it is refused."""
    try:
        return ServerInfo.from_bytes(read_carried(path, SERVER_INFO_MAX_BYTES, "server info"))
    except (ValueError, CryptoError) as exc:
        raise ReviewError(
            f"server info refused: {exc}: nothing was created",
            hint="write it again on the server: `raazdar server-info --out FILE`",
        ) from exc


def merge_server_info(
    info: ServerInfo,
    instance_id: str | None,
    server_key: str | None,
    pins: tuple[Fingerprint, ...],
    first: SignedManifest | None,
) -> tuple[str, str, tuple[Fingerprint, ...]]:
    """Take what the server info says unless typed; a typed value or keyring must agree."""
    if instance_id is not None and instance_id.strip().lower() != info.instance_id:
        raise ReviewError("--instance-id differs from the server info's instance id")
    if server_key is not None and VerifyKey.from_text(server_key) != info.server_key:
        raise ReviewError("--server-key differs from the server info's server key")
    if first is not None and first.manifest.authority_fingerprints != frozenset(info.authorities):
        raise ReviewError(
            "the keyring's authorities differ from the server info's",
            hint="check both files came from the same server and ceremony",
        )
    if first is not None and (info.keyring_version or 0) > first.manifest.version:
        raise ReviewError(
            f"the server has keyring v{info.keyring_version} in force, not"
            f" v{first.manifest.version}: a workspace started here would trust what the"
            " later ones dropped (a stolen server key, a revoked reviewer)",
            hint=f"start from keyring-v{info.keyring_version}.json, with --threshold K unless "
            "every authority signed it",
        )
    if not pins and first is None:
        pins = info.authorities
        for fp in pins:
            click.echo(f"pinning authority {fp}: compare it with the ceremony's record")
    return info.instance_id, info.server_key.to_text(), pins


@groups.workspace.command()
@click.option(
    "--key-file",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="The reviewer's key file, as listed in the keyring in force.",
)
@click.option("--reviewer", required=True, help="The reviewer's id, as in the keyring.")
@click.option("--name", help="The reviewer's name (default: the key file's label).")
@pass_ctx
def enrol(c: Ctx, key_file: Path, reviewer: str, name: str | None) -> None:
    """Enrol a key the keyring lists (administrators; its holder types their passphrase)."""
    u = c.unlock()
    u.require_admin("enrol a key")
    data = read_key_file(key_file)
    file = KeyFile.from_bytes(data)
    label = file.label
    warn_test_grade(file)
    click.echo(f"{reviewer}: type the passphrase of your key file, to prove you hold it", err=True)
    enrol_key(u, reviewer=reviewer, name=name or label, key_file=data, ask=ask)
    click.echo(f"enrolled a key for {reviewer}")


@groups.audit.command("show")
@click.option("--report", "num", type=int, help="Only entries about this report.")
@paging.paged
@pass_ctx
def audit_show(c: Ctx, num: int | None) -> None:
    """Show the audit log, details unsealed."""
    u = c.unlock()
    table = Table()
    for column in ("#", "time (UTC)", "reviewer", "action", "report", "detail"):
        table.add_column(column)
    # Entries about a report routed away from this reviewer would tell its contents.
    hidden = conflicts.hidden(u)
    withheld = 0
    for e in audit.entries(u, target=num):
        if e.target in hidden:
            withheld += 1
            continue
        detail = ", ".join(f"{k}={v}" for k, v in (e.detail or {}).items() if v is not None)
        cells = (e.seq, e.at, e.actor, e.action, e.target or "", detail[:200])
        table.add_row(*(safe(cell) for cell in cells))
    console = paging.console()
    console.print(table)
    if withheld:
        console.print(f"{withheld} entries about reports routed to other reviewers are not shown")


@groups.audit.command("verify")
@pass_ctx
def audit_verify(c: Ctx) -> None:
    """Check every entry's link and signature; name the first altered, missing or moved one."""
    verdict = audit.verify(c.open())
    if not verdict.ok:
        raise ReviewError(
            f"the audit log does not verify: {verdict.problem}",
            hint=f"the first {verdict.entries} entries verify",
        )
    click.echo(f"audit log verifies: {verdict.entries} entries, head {verdict.head}")
