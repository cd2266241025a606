"""`raazdar-review keys …`: key ceremonies, offline, one holder at a time."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click
from rich.table import Table

from crypto import (
    HybridPublicKey,
    KdfParams,
    KeyFile,
    Manifest,
    SignedManifest,
    SignedSubkeyList,
    TimestampPolicy,
)
from crypto.constants import MANIFEST_MAX_BYTES, MANIFEST_MAX_DAYS, SUBKEYS_MAX_BYTES
from crypto.errors import CryptoError
from review import workspace as ws
from review.cli import groups, idle, sensitive
from review.cli.base import Ctx, ask, make_console, pass_ctx, read_carried, read_key_file, shown
from review.keys import ceremony, keyring, revocation, subkeys, witness
from review.keys.ceremony import CeremonyError
from review.keys.enrolment import refresh_copy, rotate
from review.keys.rewrap import RewrapSummary, hybrid_keys, rewrap
from review.present.text import safe
from review.workspace.erase import discard

_FILE = click.Path(path_type=Path, dir_okay=False, exists=True)
_NEW_FILE = click.Path(path_type=Path, dir_okay=False)


def _fast_kdf(f: click.decorators.FC) -> click.decorators.FC:
    return click.option(
        "--fast-kdf",
        is_flag=True,
        hidden=True,
        help="Use the fast test key derivation (test suites only; never for real keys).",
    )(f)


def _days(f: click.decorators.FC) -> click.decorators.FC:
    return click.option(
        "--days",
        type=click.IntRange(1, MANIFEST_MAX_DAYS),
        default=ceremony.DEFAULT_DAYS,
        show_default=True,
        help="How many days the new keyring is valid (at most 366, a leap year).",
    )(f)


def _draft_out(f: click.decorators.FC) -> click.decorators.FC:
    return click.option(
        "--draft",
        "draft_out",
        required=True,
        type=_NEW_FILE,
        help="Where to write the next keyring, unsigned, for `keys sign-manifest`.",
    )(f)


def _new_passphrase(what: str) -> str:
    sensitive.warn_swap()  # the new key is made in this process's memory
    value: str = idle.prompt(
        f"New passphrase for {what}", hide_input=True, confirmation_prompt=True, err=True
    )
    if len(value) < 12:
        raise CeremonyError("a key file passphrase has at least 12 characters")
    return value


def _kdf(fast: bool) -> KdfParams:
    return KdfParams.TESTING if fast else KdfParams.SENSITIVE


def _read_manifest(path: Path) -> SignedManifest:
    try:
        return SignedManifest.from_bytes(read_carried(path, MANIFEST_MAX_BYTES, "a keyring"))
    except CryptoError as exc:
        raise CeremonyError(f"{path} is not a keyring manifest: {exc}") from exc


def _read_subkey_list(path: Path) -> SignedSubkeyList:
    try:
        return SignedSubkeyList.from_bytes(read_carried(path, SUBKEYS_MAX_BYTES, "a subkey list"))
    except (CryptoError, OSError) as exc:
        raise CeremonyError(f"{path} is not a subkey list: {exc}") from exc


def _read_key_file(path: Path) -> KeyFile:
    try:
        return KeyFile.from_bytes(read_key_file(path))
    except CryptoError as exc:
        raise CeremonyError(f"{path} is not a key file: {exc}") from exc


def _in_force(u: ws.Unlocked) -> Manifest:
    current = keyring.in_force(u.workspace)
    if current is None:
        raise CeremonyError(
            "no keyring is installed in this workspace",
            hint="install the keyring in force first: `raazdar-review keys install FILE`",
        )
    return current


def _write_draft(path: Path, signed: SignedManifest, current: Manifest | None) -> None:
    ceremony.write_new(path, signed.to_bytes())
    _said_draft(path, signed, current)


def _said_draft(path: Path, signed: SignedManifest, current: Manifest | None) -> None:
    """Say what a draft keyring written to `path` changes and how many must sign it."""
    for line in ceremony.changes(current, signed.manifest):
        click.echo(line)
    need = ceremony.signatures(signed, current).need
    click.echo(
        f"wrote {shown(path)}: it needs {need} authority signature(s) (`keys sign-manifest`)"
    )


@groups.keys.command("reviewer-new")
@click.option("--out", required=True, type=_NEW_FILE, help="The new key file.")
@click.option("--label", required=True, help="Whose key it is (shown when it is unlocked).")
@_fast_kdf
def reviewer_new(out: Path, label: str, fast_kdf: bool) -> None:
    """Make a reviewer key file (X25519, Ed25519 and X-Wing) under a new passphrase."""
    file, _ = ceremony.new_key_file(
        _new_passphrase(label), kind="reviewer", label=label, encryption=True, kdf=_kdf(fast_kdf)
    )
    ceremony.write_new(out, file.to_bytes())
    assert file.encryption_public is not None  # noqa: S101 - made with one above
    click.echo(f"wrote {shown(out)}: key {file.encryption_public.fingerprint}")


@groups.keys.command("authority-init")
@click.option(
    "--holder",
    "holders",
    multiple=True,
    required=True,
    help="An authority key holder's name (repeat: one key file each).",
)
@click.option("--threshold", required=True, type=int, help="Signatures needed to sign a keyring.")
@click.option(
    "--reviewer",
    "reviewers",
    multiple=True,
    required=True,
    metavar="ID=KEYFILE",
    help="A reviewer reports are sealed to, and their key file (repeat).",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(path_type=Path, file_okay=False),
    help="A new directory for the key files and keyring-v1.json.",
)
@_days
@_fast_kdf
def authority_init(
    holders: tuple[str, ...],
    threshold: int,
    reviewers: tuple[str, ...],
    out: Path,
    days: int,
    fast_kdf: bool,
) -> None:
    """Make the authority key files (each its own passphrase) and keyring version 1."""
    recipients = []
    for spec in reviewers:
        rid, sep, file_name = spec.partition("=")
        if not sep or not file_name:
            raise click.BadParameter(f"{spec!r}: use ID=KEYFILE", param_hint="--reviewer")
        file = _read_key_file(Path(file_name))
        recipients.append(ceremony.recipient(rid, file.label, file))
    passphrases = [_new_passphrase(f"authority key {name!r}") for name in holders]
    signed, written = ceremony.authority_init(
        out,
        holders,
        passphrases,
        threshold=threshold,
        recipients=recipients,
        today=dt.date.today(),
        days=days,
        kdf=_kdf(fast_kdf),
    )
    for path in written:
        click.echo(f"wrote {shown(path)}")
    click.echo("authority fingerprints, to pin on the server and in each workspace:")
    for fp in ceremony.fingerprints(signed):
        click.echo(f"  {fp}")
    click.echo("give each holder their key file alone, on its own medium")


@groups.keys.command("sign-manifest")
@click.argument("draft", type=_FILE)
@click.option("--key-file", required=True, type=_FILE, help="Your authority key file.")
@click.option(
    "--previous",
    type=_FILE,
    help="The keyring in force (default: the workspace's, if there is a workspace).",
)
@pass_ctx
def sign_manifest(c: Ctx, draft: Path, key_file: Path, previous: Path | None) -> None:
    """Add your signature to a keyring, after reading what it changes and its digest aloud."""
    signed = _read_manifest(draft)
    if previous is not None:
        current: Manifest | None = _read_manifest(previous).manifest
    elif signed.manifest.version > 1 and (c.root / ws.DB_NAME).is_file():
        current = keyring.in_force(c.open())
    else:
        current = None
    if current is None and signed.manifest.version > 1:
        raise CeremonyError(
            "cannot show what this keyring changes without the one in force",
            hint="give --previous FILE, or run it where the workspace is",
        )
    if current is not None and signed.manifest.previous != current.digest():
        raise CeremonyError(f"{draft} does not follow the keyring in force (v{current.version})")
    if current is not None:
        ceremony.check_next(current, signed.manifest)
    ceremony.check_names_apart(signed.manifest)
    for line in ceremony.changes(current, signed.manifest):
        click.echo(safe(line).plain)
    _confirm_digest(signed.manifest)
    file = _read_key_file(key_file)
    pair = file.unlock(ask(file.label))
    if pair.signing is None:
        raise CeremonyError("this key file holds no signing key")
    signed = ceremony.sign(signed, pair.signing, current)
    ceremony.replace_file(draft, signed.to_bytes())
    count = ceremony.signatures(signed, current)
    state = "complete: install it" if count.complete else "more signatures needed"
    click.echo(f"signed: {count.have} of {count.need} signature(s), {state}")


def _confirm_digest(manifest: Manifest) -> None:
    """Sign only once the holder has typed the digest's first group: they have read it."""
    click.echo(
        "Read the digest aloud to the other holders and check it matches theirs, group by group."
    )
    typed: str = idle.prompt(
        "To sign, type the digest's first four characters", default="", show_default=False, err=True
    )
    if typed.strip().upper() != ceremony.digest_text(manifest)[:4]:
        raise CeremonyError(
            "not signed: the characters typed are not the digest's",
            hint="read the digest again; if another holder's differs, the drafts differ: stop",
        )


@groups.keys.command("install")
@click.argument("file", type=_FILE)
@click.option(
    "--threshold",
    type=click.IntRange(min=1),
    help="For a workspace made before it kept one, and its first keyring only: how many "
    "pinned authorities must sign, the organisation's threshold (administrators; audited).",
)
@pass_ctx
def install(c: Ctx, file: Path, threshold: int | None) -> None:
    """Install a signed keyring in the workspace (it must follow the one in force)."""
    u = c.unlock()
    manifest = keyring.install(u, _read_manifest(file), threshold=threshold)
    if threshold is not None:
        click.echo(f"the first keyring here needs {threshold} pinned authorities' signatures")
    click.echo(f"keyring v{manifest.version} installed, in force until {manifest.expires}")
    enrolled = {
        (reviewer, key)
        for reviewer, key in u.conn.execute("SELECT reviewer, encryption_key FROM reviewer_keys")
    }
    for r in manifest.recipients:
        if (r.id, r.encryption_key.to_text()) not in enrolled:
            click.echo(
                f"{r.id} is listed but not enrolled here: an administrator runs"
                f" `raazdar-review workspace enrol --key-file FILE --reviewer {r.id}`"
                " with them present"
            )


@groups.keys.command("upgrade")
@click.argument("key_file", type=_FILE)
@click.option(
    "--add-hybrid",
    is_flag=True,
    help="Also give a reviewer key a new X-Wing (post-quantum) key, for forward secrecy"
    " (and the workspace's copy of it, if enrolled there).",
)
@pass_ctx
def upgrade(c: Ctx, key_file: Path, add_hybrid: bool) -> None:
    """Rewrite an old key file in the current format, its public keys signed by its own key."""
    file = _read_key_file(key_file)
    adding = add_hybrid and file.hybrid_public is None and file.encryption_public is not None
    if file.bound and not adding:
        click.echo(f"{key_file} is already in the current format")
        return
    new = file.upgraded(ask(file.label), add_hybrid=adding)
    ceremony.replace_file(key_file, new.to_bytes())
    click.echo(f"rewrote {key_file}: same keys, same passphrase, public keys now signed")
    if new.hybrid_public is not None and adding:
        click.echo(f"added X-Wing key {new.hybrid_public.fingerprint}")
        if (c.root / ws.DB_NAME).is_file():
            _refresh_workspace_copy(c, new)


def _refresh_workspace_copy(c: Ctx, file: KeyFile) -> None:
    """Give the workspace's copy of this key its X-Wing key too, and say what that changes."""
    workspace = c.open()
    try:
        seq = refresh_copy(workspace, file)
        if seq is not None:
            click.echo(f"the workspace's copy of key {seq} has it too")
            click.echo(_workspace_key_state(workspace))
    finally:
        workspace.close()


@groups.keys.command("show")
@click.argument("draft", type=_FILE, required=False)
@pass_ctx
def show(c: Ctx, draft: Path | None) -> None:
    """Show the keyring in force (or what DRAFT changes) and every enrolled key, numbered."""
    workspace = _checked(c)
    current = keyring.in_force(workspace)
    if draft is not None:
        for line in ceremony.changes(current, _read_manifest(draft).manifest):
            click.echo(safe(line).plain)
        return
    if current is None:
        click.echo("no keyring installed: `raazdar-review keys install FILE`")
    else:
        click.echo(f"in force until {current.expires}")
        for line in ceremony.describe(current):
            click.echo(safe(line).plain)
    roles = dict(workspace.conn.execute("SELECT id, role FROM reviewers").fetchall())
    table = Table()
    for column in ("#", "reviewer", "role", "key", "state"):
        table.add_column(column)
    for key in keyring.anchoring(workspace):
        state = "retired" if key.retired else "in keyring" if key.listed else "not in keyring"
        role = str(roles.get(key.reviewer, ""))
        table.add_row(str(key.seq), safe(key.reviewer), role, key.fingerprint, state)
    make_console().print(table)
    click.echo(_workspace_key_state(workspace))


def _checked(c: Ctx) -> ws.Workspace:
    """The workspace, unlocked first if it holds a keyring, so that what is read of it is checked.

    Its pins and keyrings are in the clear: the unlock refuses them unless they are what
    this tool wrote (`review.workspace.head`), so a keyring planted on the disk, or in a
    backup, is neither shown for the sources' pins nor timestamped.
    """
    workspace = c.open()
    if workspace.keyring() is None:
        return workspace
    workspace.close()
    return c.unlock().workspace


def _workspace_key_state(workspace: ws.Workspace) -> str:
    """Whether the workspace key is post-quantum, and if not, which keys hold it back."""
    if isinstance(workspace.public_key, HybridPublicKey):
        return "workspace key: X-Wing (post-quantum)"
    missing = [str(seq) for seq, hybrid in hybrid_keys(workspace).items() if hybrid is None]
    if not missing:
        return "workspace key: X25519 (not post-quantum), re-sealed under X-Wing at the next unlock"
    return (
        f"workspace key: X25519 (not post-quantum) while key(s) {', '.join(missing)} have no"
        " X-Wing half: their holders run `keys upgrade --add-hybrid FILE` here (or"
        " `keys rotate`, then `keys rewrap --retire N`)"
    )


@groups.keys.command("reviewer-add")
@click.option("--key-file", required=True, type=_FILE, help="The reviewer's key file.")
@click.option("--reviewer", required=True, help="The reviewer's id.")
@click.option("--name", help="The reviewer's name (default: the key file's label).")
@_draft_out
@_days
@pass_ctx
def reviewer_add(
    c: Ctx, key_file: Path, reviewer: str, name: str | None, draft_out: Path, days: int
) -> None:
    """Draft the keyring that seals reports to a new reviewer too (enrol them once installed)."""
    u = c.unlock()
    u.require_admin("add a reviewer")
    ws.check_reviewer_id(reviewer)
    current = _in_force(u)
    file = _read_key_file(key_file)
    entry = ceremony.recipient(reviewer, name or file.label, file)
    signed = ceremony.draft(current, today=dt.date.today(), days=days, add=entry)
    _write_draft(draft_out, signed, current)
    click.echo(
        f"once it is signed and installed here, enrol {reviewer} with its holder present:"
        f" `raazdar-review workspace enrol --key-file {key_file} --reviewer {reviewer}`"
    )


@groups.keys.command("forward-secrecy")
@click.option(
    "--key-file",
    "key_files",
    multiple=True,
    type=_FILE,
    help="A listed reviewer's key file holding an X-Wing key (repeat; every reviewer's).",
)
@_draft_out
@_days
@pass_ctx
def forward_secrecy(c: Ctx, key_files: tuple[Path, ...], draft_out: Path, days: int) -> None:
    """Draft keyring format 3: reports sealed (v2) to weekly subkeys; it can't be undone."""
    u = c.unlock()
    u.require_admin("turn forward secrecy on")
    current = _in_force(u)
    found = ceremony.hybrid_keys(current, [_read_key_file(p) for p in key_files])
    signed = ceremony.draft(current, today=dt.date.today(), days=days, hybrid=found)
    _write_draft(draft_out, signed, current)
    click.echo(
        "install it on the server only once every reviewer's subkey list is installed there"
        " (`raazdar-review keys subkeys new`, `raazdar keyring subkeys install`)"
    )


_abandon_unread = click.option(
    "--abandon-unread",
    is_flag=True,
    help="Retire the keys even if items waiting to be read open with them alone (their "
    "reviewer will not come back, or their key leaked): those items are given up.",
)


second_admin_option = click.option(
    "--second-admin",
    "second_admin",
    type=_FILE,
    help="A second administrator's key file, its holder present to type the passphrase: "
    "one administrator alone may not retire the keys of a reviewer the keyring in force "
    "lists, give the role, weaken the escalation rule, or give a retired body's name to a "
    "new key.",
)


def with_second(u: ws.Unlocked, path: Path | None) -> ws.Unlocked:
    """The workspace acting with a second administrator present, if one was named."""
    if path is None:
        return u
    file = _read_key_file(path)
    return witness.second_admin(u, file, ask(file.label))


@groups.keys.command("reviewer-revoke")
@click.argument("reviewer")
@_draft_out
@_days
@_abandon_unread
@second_admin_option
@pass_ctx
def reviewer_revoke(
    c: Ctx,
    reviewer: str,
    draft_out: Path,
    days: int,
    abandon_unread: bool,
    second_admin: Path | None,
) -> None:
    """Retire a reviewer's keys here, re-seal the workspace, and draft a keyring without them.

    Without the administrator's role it only drafts, until the keyring in force
    no longer lists them: then it retires their keys too.
    """
    u = with_second(c.unlock(), second_admin)
    if reviewer == u.reviewer:
        raise CeremonyError(
            "a reviewer cannot revoke themselves",
            hint="another reviewer drafts it; once the authorities' keyring drops you, "
            "any other reviewer retires your keys here",
        )
    current = _in_force(u)
    if not revocation.keys_in_service(u, reviewer):
        raise CeremonyError(f"no reviewer {reviewer!r} has a key in service here")
    listed = any(r.id == reviewer for r in current.recipients)
    signed = None
    if listed:
        signed = ceremony.draft(current, today=dt.date.today(), days=days, remove=reviewer)
        if not u.is_admin:
            # Drafting is harmless (the holders sign or not); retiring waits for them.
            _write_draft(draft_out, signed, current)
            click.echo(
                f"{reviewer} keeps their keys here until that keyring is installed: then run "
                f"`keys reviewer-revoke {reviewer}` again (or an administrator does it now)"
            )
            return
        ceremony.write_new(draft_out, signed.to_bytes())
    try:
        summary, nobody = revocation.revoke(u, reviewer, abandon=abandon_unread)
    except BaseException:
        if signed is not None:
            draft_out.unlink(missing_ok=True)
        raise
    click.echo(f"retired {len(summary.retired)} key(s) of {reviewer}; re-sealed the workspace")
    _say_abandoned(summary.abandoned, f"{reviewer}'s keys")
    _say_ack_key(summary)
    if nobody:
        click.echo(
            "nobody administers this workspace now: the authorities in force give the role "
            "with `keys admin-grant REVIEWER --key-file FILE …` (as many holders as the "
            "keyring's threshold)"
        )
    if signed is None:
        click.echo(f"the keyring in force does not list {reviewer}: no new keyring is needed")
        click.echo("discard any unsigned draft that would add them")
        return
    for line in ceremony.changes(current, signed.manifest):
        click.echo(line)
    click.echo(f"wrote {draft_out}: have it signed, then install it on the server and here")


@groups.keys.command("admin-grant")
@click.argument("reviewer")
@click.option(
    "--key-file",
    "key_files",
    multiple=True,
    type=_FILE,
    help="An authority key file of the keyring in force, its holder present (repeat: as "
    "many as its threshold). Not needed when two administrators give the role.",
)
@second_admin_option
@pass_ctx
def admin_grant(
    c: Ctx, reviewer: str, key_files: tuple[Path, ...], second_admin: Path | None
) -> None:
    """Give a reviewer the administrator's role: two administrators, or the authorities, do."""
    u = with_second(c.unlock(), second_admin)
    holders = []
    for path in key_files:
        file = _read_key_file(path)
        pair = file.unlock(ask(file.label))
        if pair.signing is None:
            raise CeremonyError(f"{path} holds no signing key")
        holders.append(pair.signing)
    given = revocation.grant(u, reviewer, holders)
    by = f"{len(given)} authorities" if given else f"{u.reviewer} and {u.second}"
    click.echo(f"{reviewer} now administers this workspace (given by {by})")


@groups.keys.command("rotate")
@click.option("--backup", type=_NEW_FILE, help="Also write the new key file here.")
@_draft_out
@_days
@_fast_kdf
@pass_ctx
def rotate_keys(c: Ctx, backup: Path | None, draft_out: Path, days: int, fast_kdf: bool) -> None:
    """Give yourself new keys (the old ones stay for old reports) and draft the keyring."""
    u = c.unlock()
    current = _in_force(u)
    if backup is not None and backup.exists():
        raise CeremonyError(f"{backup} already exists", hint="choose another name")
    written: list[Path] = []
    drafted: list[SignedManifest] = []

    def write_out(file: KeyFile) -> None:
        # Before the key is enrolled: a draft that cannot be written (its name taken, a full
        # stick) left a key in service here that no keyring would name, and each try another.
        if backup is not None:
            written.append(ceremony.write_new(backup, file.to_bytes()))
        name = next((r.name for r in current.recipients if r.id == u.reviewer), file.label)
        entry = ceremony.recipient(u.reviewer, name, file)
        signed = ceremony.draft(current, today=dt.date.today(), days=days, add=entry)
        written.append(ceremony.write_new(draft_out, signed.to_bytes()))
        drafted.append(signed)

    passphrase = _new_passphrase(f"{u.reviewer}'s new key")
    try:
        rotate(u, passphrase, kdf=_kdf(fast_kdf), first=write_out)
    except BaseException:
        for path in written:
            discard(path)  # a backup and a draft of a key enrolled nowhere
        raise
    _said_draft(draft_out, drafted[0], current)
    click.echo("until the new keyring is installed, you keep signing with your old key")


@groups.keys.command("rewrap")
@click.option(
    "--retire",
    "retire",
    multiple=True,
    type=int,
    help="Retire this key for good (its number in `keys show`; repeat).",
)
@click.option(
    "--retire-old",
    is_flag=True,
    help="Retire every key of yours that the keyring in force does not list.",
)
@_abandon_unread
@second_admin_option
@pass_ctx
def rewrap_cmd(
    c: Ctx,
    retire: tuple[int, ...],
    retire_old: bool,
    abandon_unread: bool,
    second_admin: Path | None,
) -> None:
    """Re-seal everything under a new workspace key; retire old keys and delete their files."""
    u = with_second(c.unlock(), second_admin)
    chosen = set(retire)
    if retire_old:
        _in_force(u)
        chosen |= {
            k.seq
            for k in keyring.anchoring(u.workspace)
            if k.reviewer == u.reviewer and not k.retired and not k.listed
        }
    _, summary = rewrap(u, retire=chosen, abandon=abandon_unread)
    click.echo(f"re-sealed {summary.blobs} blob(s) and {summary.records} record(s)")
    for fp in summary.retired:
        click.echo(f"retired key {fp}: its key file is destroyed")
    _say_abandoned(summary.abandoned, "the retired keys")
    _say_ack_key(summary)


def _say_ack_key(summary: RewrapSummary) -> None:
    """Print what the administrators type at the server's console, now, after a rewrap."""
    click.echo(
        "the server refuses this workspace's reply bundles until the administrators give it "
        "the new workspace key, and until then applies what the old one seals (whoever copied "
        f"it): give it now, at its console: `raazdar set-ack-key {summary.ack_key.to_text()}`"
    )


def _say_abandoned(count: int, whose: str) -> None:
    """Say how many items waiting to be read a retirement gave up."""
    if count:
        click.echo(
            f"{count} item(s) that only {whose} open are given up: nobody here can read them"
        )


@groups.keys.command("timestamp-new")
@click.option("--out", required=True, type=_NEW_FILE, help="The new key file.")
@click.option("--label", default="Keyring timestamp key", show_default=True, help="Its label.")
@_fast_kdf
def timestamp_new(out: Path, label: str, fast_kdf: bool) -> None:
    """Make a timestamp key file (Ed25519): it vouches, every few days, for the newest keyring."""
    file, _ = ceremony.new_key_file(
        _new_passphrase(label), kind="timestamp", label=label, encryption=False, kdf=_kdf(fast_kdf)
    )
    ceremony.write_new(out, file.to_bytes())
    assert file.signing_public is not None  # noqa: S101 - made with one above
    click.echo(f"wrote {shown(out)}: timestamp key {file.signing_public.fingerprint}")


@groups.keys.command("list-instance")
@click.option(
    "--instance",
    "description",
    required=True,
    type=_FILE,
    help="What `raazdar keyring instance-info` printed on the server.",
)
@click.option(
    "--timestamp-key",
    type=_FILE,
    help="The timestamp key file (`keys timestamp-new`); default: keep the keyring's.",
)
@click.option(
    "--timestamp-days",
    type=click.IntRange(1, 31),
    default=keyring.TIMESTAMP_DAYS,
    show_default=True,
    help="How long one timestamp holds: a withheld keyring shows within this many days.",
)
@_draft_out
@_days
@pass_ctx
def list_instance(
    c: Ctx,
    description: Path,
    timestamp_key: Path | None,
    timestamp_days: int,
    draft_out: Path,
    days: int,
) -> None:
    """Draft the next keyring listing the instance: its onions, server keys and codename KDF."""
    u = c.unlock()
    u.require_admin("list the instance in the keyring")
    current = _in_force(u)
    listing, codename = ceremony.instance_description(
        read_carried(description, ceremony.DESCRIPTION_MAX_BYTES, "an instance description")
    )
    if listing.id != u.workspace.pinned.instance_id:
        raise CeremonyError("this description is of another instance than this workspace's")
    policy = current.timestamp
    if timestamp_key is not None:
        public = _read_key_file(timestamp_key).signing_public
        if public is None:
            raise CeremonyError(f"{timestamp_key} holds no signing key")
        holders = {a.key for a in current.authorities} | {r.signing_key for r in current.recipients}
        if public in holders:
            # Its holder alone could keep a superseded keyring alive (PROTOCOL §8.8).
            raise CeremonyError(
                f"{timestamp_key} holds an authority's or a reviewer's key: the keyring needs "
                "a timestamp key of its own",
                hint="make one with `raazdar-review keys timestamp-new`",
            )
        policy = TimestampPolicy(public, timestamp_days)
    if policy is None:
        raise CeremonyError(
            "the keyring names no timestamp key yet",
            hint="make one with `keys timestamp-new` and give it with --timestamp-key",
        )
    signed = ceremony.draft(
        current,
        today=dt.date.today(),
        days=days,
        instance=listing,
        codename=codename,
        timestamp=policy,
    )
    _write_draft(draft_out, signed, current)


@groups.keys.command("timestamp")
@click.option("--key-file", required=True, type=_FILE, help="The timestamp key file.")
@click.option(
    "--keyring",
    "keyring_file",
    type=_FILE,
    help="The keyring in force (default: the workspace's, if there is a workspace).",
)
@click.option(
    "--days",
    type=click.IntRange(1, 31),
    help="How long it holds (default: as long as the keyring allows).",
)
@click.option(
    "--subkeys",
    "subkey_files",
    multiple=True,
    type=_FILE,
    help="A reviewer's subkey list in force (repeat for each): the timestamp names its "
    "number, and raazdar-submit refuses that reviewer's older lists, state or not. Give "
    "each one, above all after `keys subkeys new --rekey`.",
)
@click.option("--out", required=True, type=_NEW_FILE, help="Where to write the timestamp.")
@pass_ctx
def timestamp(
    c: Ctx,
    key_file: Path,
    keyring_file: Path | None,
    days: int | None,
    subkey_files: tuple[Path, ...],
    out: Path,
) -> None:
    """Renew the keyring's freshness: sign that the keyring in force is still the newest.

    Carry the file to the server: `raazdar keyring timestamp FILE`. Without a
    fresh one, raazdar-submit clients refuse the keyring.
    """
    workspace = _checked(c) if (c.root / ws.DB_NAME).is_file() else None
    if keyring_file is not None:
        current: Manifest | None = _read_manifest(keyring_file).manifest
    elif workspace is not None:
        current = keyring.in_force(workspace)
    else:
        current = None
    if current is None:
        raise CeremonyError("which keyring? there is no workspace here", hint="give --keyring FILE")
    if workspace is not None:
        keyring.check_vouchable(workspace, current)
    file = _read_key_file(key_file)
    pair = file.unlock(ask(file.label))
    if pair.signing is None:
        raise CeremonyError("this key file holds no signing key")
    lists = [_read_subkey_list(path) for path in subkey_files]
    if workspace is not None and lists:
        # The lists come on a stick: one swapped for an older list of its reviewer is refused.
        numbers = keyring.list_numbers(current, lists, dt.date.today())
        subkeys.check_newest_lists(c.unlock(), numbers)
    if workspace is not None and not lists:
        # Forgetting --subkeys signed a timestamp with no floor, which left devices without
        # state taking the leaked list a re-key replaced; the lists are named, or none is made.
        recorded = subkeys.with_records(workspace, [r.id for r in current.recipients])
        issued = subkeys.issued_numbers(c.unlock(), recorded) if recorded else {}
        if issued:
            rid, number = next(iter(sorted(issued.items())))
            raise CeremonyError(
                f"{rid} issued subkey list {number} in this workspace: a timestamp must name "
                "the number of each list in force, or devices without state take an older one",
                hint="give each list installed on the server: --subkeys FILE (one per reviewer)",
            )
    stamp = keyring.timestamp(current, pair.signing, dt.date.today(), days, lists)
    ceremony.write_new(out, stamp.to_bytes())
    click.echo(
        f"wrote {shown(out)}: keyring v{stamp.timestamp.version} is the newest until "
        f"{stamp.timestamp.expires}; install it on the server: raazdar keyring timestamp FILE"
    )
    for rid, number in stamp.timestamp.subkeys:
        click.echo(f"it names subkey list {number} of {rid}: older lists are refused")
