"""`raazdar export` and `raazdar import-replies`: the bundles that travel by USB."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from app.cli.base import app_context, fail, main, open_carried, reports_errors

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from app.operations.exchange import ExportSummary


# How the operator destroys a part file: `rm` leaves its sealed items in a stick's free blocks.
_SHRED = "`shred -u {}`, not `rm`, which leaves its sealed items in the stick's free blocks"


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
    help="Export every item received since this day, exported or not (and every item"
    " not yet exported, as every export does).",
)
@click.option(
    "--resend",
    is_flag=True,
    help="Export every item not yet acknowledged: fills the gap a lost bundle left.",
)
@click.option(
    "--resume-chain",
    "resume",
    metavar="N:DIGEST",
    callback=lambda _ctx, _param, value: _link(value),
    help="After a restore from a backup: follow bundle N, whose digest the review"
    " workstation names when it refuses this server's exports, with every item not yet"
    " acknowledged (a resend).",
)
@click.pass_obj
@reports_errors
def export(
    instance: Path, out: Path, since: Any, resend: bool, resume: tuple[int, bytes] | None
) -> None:
    """Write a signed export bundle of new items for the review workstation."""
    from app.db import db_session
    from app.errors import CommitUnconfirmed
    from app.files import fsync_directory
    from app.instance import InstancePaths, refuse_unfinished_restore
    from app.operations.exchange import export_bundle, record_export
    from app.services import audit

    if since and (resend or resume):
        raise click.UsageError("give --since or --resend (or --resume-chain), not more")
    if out.exists():
        fail(f"{out} exists", "choose a new file name: a bundle is never overwritten")
    partial = out.with_name(f".{out.name}.part")
    if partial.exists():
        # Killed after its commit, an export leaves a whole bundle the chain counts.
        fail(
            f"{partial} was left by an export cut short: it may be a whole bundle whose "
            "items the server counts as exported",
            f"rename it to {out.name} and carry it, or destroy it ({_SHRED.format(partial)}); "
            "either way a later `raazdar export --resend` fills any gap it leaves at the "
            "workstation",
        )
    # Until its purge, a restore has no id of its own: the bundle would not tell it.
    refuse_unfinished_restore(InstancePaths(instance))
    since_day = since.date() if since else None

    def settle(session: Session, summary: ExportSummary) -> None:
        # Audited as the dashboard's are: a bundle nobody's page names is a console's
        # taking every new report, seen only as a gap (PROTOCOL §13.1).
        record_export(
            session, audit.CONSOLE, summary, since=since_day, resend=resend or resume is not None
        )
        # The part file's name on disk before the commit: a power cut after it would
        # otherwise take the bundle, flushed, with the name that led to it.
        fsync_directory(partial.parent)

    summary: ExportSummary | None = None
    kept = False
    with app_context(instance):
        try:
            with partial.open("xb") as dst:
                summary = export_bundle(
                    db_session(),
                    dst,
                    since=since_day,
                    resend=resend,
                    resume=resume,
                    before_commit=settle,
                )
            partial.rename(out)
            # The new name on the disk before the answer: a power cut after it left the part
            # file, which the next export refuses, and no bundle under the name it gave.
            fsync_directory(out.parent)
        except CommitUnconfirmed:
            kept = True  # it may have landed: the part file is the bundle its items are in
            fail(
                "the database did not say whether it stored this export: its items may be "
                f"marked sent, so the bundle is kept as {partial}",
                f"once the database answers, rename it to {out.name} and carry it, or destroy "
                f"it ({_SHRED.format(partial)}); either way a later `raazdar export --resend` "
                "fills any gap it leaves at the workstation",
            )
        except OSError as exc:
            if summary is None:
                raise
            if out.exists():
                fail(
                    f"bundle {summary.sequence} was exported, its items marked sent, but its "
                    f"name could not be forced to the disk: {exc.strerror or exc}; it is {out}",
                    "run `sync` and check the bundle is there before you take the stick out",
                )
            # Committed: its items are marked exported, so the bundle is kept whatever
            # failed after (a full disk refusing the rename). Deleted with the part file,
            # as it was, they went in no bundle while the operator read "error".
            fail(
                f"bundle {summary.sequence} was exported, its items marked sent, but it "
                f"could not be named {out.name}: {exc.strerror or exc}; it is {partial}",
                f"rename it to {out.name} (make room first if the disk is full) and carry it",
            )
        finally:
            if summary is None and not kept:
                _discard(partial)
    click.echo(
        f"raazdar: exported {summary.items} item(s) from {summary.sources} source(s) "
        f"to {out} (bundle {summary.sequence}, id {summary.bundle_id})"
    )
    if summary.again is not None:
        first, last = summary.again
        named = f"bundle {first}" if first == last else f"bundles {first} to {last}"
        click.echo(
            f"raazdar: it carries again every item still here: the review workstation has not "
            f"confirmed {named} (its next reply bundle does)"
        )
    if summary.missing:
        click.echo(
            f"raazdar: warning: {len(summary.missing)} item(s) left out, their files are missing: "
            f"{', '.join(summary.missing)} (`raazdar doctor` lists them)",
            err=True,
        )


def _discard(partial: Path) -> None:
    """Overwrite a bundle cut short, then unlink it (what fails is not the error reported).

    Unlinked alone, its blocks stayed on the stick (FAT32 and exFAT free them where
    they lie): the bundle's header and the sealed items it had copied, for whoever
    takes the stick, though nothing of it was exported. Zeros written over what it
    holds need no free space, so a stick left full by the failure takes them.
    """
    from app.files import overwrite

    with contextlib.suppress(OSError):  # a stick pulled out: unlinked all the same, as before
        overwrite(partial)
    partial.unlink(missing_ok=True)


def _link(value: str | None) -> tuple[int, bytes] | None:
    """Read `N:DIGEST` (the digest in hex, as the workstation prints it)."""
    if value is None:
        return None
    number, _, digest = value.partition(":")
    try:
        return int(number), bytes.fromhex(digest)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not N:DIGEST (a bundle number, a colon, 64 hex digits)"
        ) from None


@main.command("import-replies")
@click.argument("bundle", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.pass_obj
@reports_errors
def import_replies(instance: Path, bundle: Path) -> None:
    """Apply a reply bundle from the review workstation: all of it, or nothing of it."""
    from app.db import db_session
    from app.errors import KeyringUnavailable
    from app.instance import InstancePaths, refuse_unfinished_restore
    from app.operations.exchange import BundleRefused, apply_reply_bundle, record_applied
    from app.services import audit
    from app.services.refusals import reply_bundle_refusal
    from crypto import CryptoError

    # The purge that finishes a restore drops the replies the backup brought back.
    refuse_unfinished_restore(InstancePaths(instance))
    with app_context(instance), open_carried(bundle) as src:
        try:
            summary = apply_reply_bundle(
                db_session(),
                src,
                before_commit=lambda session, summary: record_applied(
                    session, audit.CONSOLE, summary
                ),
            )
        except (CryptoError, KeyringUnavailable) as exc:
            refusal = reply_bundle_refusal(exc)
            fail(refusal.error, refusal.hint)
        except BundleRefused as exc:
            for reason in exc.refused:
                click.echo(f"raazdar: refused {reason}", err=True)
            fail(
                f"reply bundle {exc.bundle_id} was not applied: nothing of it changed",
                "the reviewers take it back (`raazdar-review exchange take-back`) and write a "
                "new reply bundle, which voids this one: destroy this copy",
            )
    click.echo(
        f"raazdar: bundle {summary.bundle_id}: {summary.replies} reply(ies) posted, "
        f"{summary.deleted} acknowledged item(s) deleted, {summary.notices} notice(s) set"
    )
    if summary.held:
        click.echo(
            f"raazdar: warning: {summary.held} acknowledged item(s) kept, not deleted: the "
            "review workspace's key did not seal this bundle's acknowledgements (a reviewer's "
            "key file used away from the workstation, or a workspace started again)",
            err=True,
        )
        click.echo(
            "raazdar: hint: the next export carries them again and names them; only the "
            "workstation's own next reply bundle deletes them",
            err=True,
        )
    if summary.stale_notices:
        click.echo(
            f"raazdar: {summary.stale_notices} notice(s) not set: their sources are shown one "
            "the reviewers issued later (this bundle was handed in after a later one)"
        )
    if summary.skipped or summary.voided:
        click.echo(
            f"raazdar: it voided {summary.voided} bundle(s) taken back, never to be applied; "
            f"{summary.skipped} reply(ies) not posted again (a bundle taken back had posted them)"
        )


@main.command("set-ack-key")
@click.argument("key")
@click.pass_obj
@reports_errors
def set_ack_key(instance: Path, key: str) -> None:
    """Give the review workspace's acknowledgement key: only bundles it seals delete items.

    KEY (`rz-ed25519-public:…`) is the one the workstation names when the server
    holds another (a workspace started again or restored, or a bundle sealed
    elsewhere came first). Until this is run, every reply bundle is refused.
    """
    from app.db import db_session
    from app.operations.exchange import set_ack_key as put
    from crypto import CryptoError, VerifyKey

    try:
        verify_key = VerifyKey.from_text(key.strip())
    except CryptoError as exc:
        raise click.BadParameter(f"not a workspace key: {exc}") from None
    with app_context(instance):
        before = put(db_session(), verify_key)
    click.echo(
        f"raazdar: acknowledgements now delete only under the seal of {verify_key.fingerprint}"
        + (f" (was {VerifyKey.from_text(before).fingerprint})" if before else "")
    )
