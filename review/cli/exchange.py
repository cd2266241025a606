"""Commands that move bundles across the air gap (import, export, take-back), and `reply`."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import rich.progress
from rich.console import Console

from review.casework import replies
from review.cli import groups
from review.cli.base import PROG, Ctx, compose, pass_ctx, shown
from review.cli.sensitive import REPORT, tell
from review.cli.subkeys import destroy_after_import
from review.intake import copies, exports, forks, receipts
from review.intake.importer import REPLACED_HINT, import_bundle
from review.workspace import Unlocked


@groups.exchange.command("import")
@click.argument("bundle", type=click.Path(path_type=Path, dir_okay=False))
@pass_ctx
def import_(c: Ctx, bundle: Path) -> None:
    """Verify an export bundle and file every report in it."""
    u = c.unlock()
    if sys.stderr.isatty():
        with rich.progress.Progress(console=Console(stderr=True), transient=True) as bar:
            task = bar.add_task("importing", total=None)
            summary = import_bundle(
                u, bundle, lambda done, total: bar.update(task, completed=done, total=total)
            )
    else:
        summary = import_bundle(u, bundle)
    number = f"bundle {summary.sequence}" if summary.sequence is not None else "unnumbered bundle"
    click.echo(
        f"{number} ({summary.bundle_id}): {summary.filed} item(s) filed, "
        f"{summary.new_reports} new report(s), {summary.already} already here"
    )
    for dispute in summary.disputes:
        click.echo(f"{PROG}: warning: {dispute.message()}", err=True)
    for fork in summary.forks:
        click.echo(f"{PROG}: warning: {fork.message()}", err=True)
    if summary.forks:
        click.echo(f"{PROG}: hint: {forks.HINT}", err=True)
    for withheld in summary.stale:
        click.echo(f"{PROG}: warning: {withheld.message()}", err=True)
    if summary.stale:
        click.echo(f"{PROG}: hint: {forks.STALE_HINT}", err=True)
    for copy in summary.copies:
        click.echo(f"{PROG}: warning: {copy.message()}", err=True)
    if summary.copies:
        click.echo(f"{PROG}: hint: {copies.HINT}", err=True)
    for replaced in summary.replaced:
        click.echo(f"{PROG}: warning: {replaced.message()}", err=True)
        click.echo(f"{PROG}: hint: {REPLACED_HINT}", err=True)
    for problem in summary.problems:
        click.echo(f"{PROG}: warning: {problem}", err=True)
    if summary.problems:
        click.echo(
            f"{PROG}: hint: {len(summary.problems)} item(s) could not be read here; "
            "they are kept, listed by `show`, and not acknowledged to the server",
            err=True,
        )
    if summary.unknown_receipts is not None:
        click.echo(f"{PROG}: warning: {summary.unknown_receipts.message()}", err=True)
        click.echo(f"{PROG}: hint: {summary.unknown_receipts.hint()}", err=True)
    for unread in summary.unread:
        click.echo(f"{PROG}: warning: {unread.message()}", err=True)
    if summary.forged_unheld is not None:
        click.echo(f"{PROG}: warning: {summary.forged_unheld.message()}", err=True)
    if summary.held is not None:
        click.echo(f"{PROG}: warning: {summary.held.message()}", err=True)
        click.echo(f"{PROG}: hint: {summary.held.hint()}", err=True)
    if summary.other_ack_key is not None:
        click.echo(f"{PROG}: warning: {summary.other_ack_key.message()}", err=True)
        click.echo(f"{PROG}: hint: {summary.other_ack_key.hint()}", err=True)
    if summary.notices_behind is not None:
        click.echo(f"{PROG}: warning: {summary.notices_behind.message()}", err=True)
    for late in summary.applied_after_all:
        click.echo(f"{PROG}: warning: {late.message()}", err=True)
    for lost in summary.forgotten:
        click.echo(f"{PROG}: warning: {lost.message()}", err=True)
    if summary.forgotten:
        click.echo(f"{PROG}: hint: {receipts.Forgotten.hint()}", err=True)
    if summary.restored is not None:
        click.echo(f"{PROG}: warning: {summary.restored.message()}", err=True)
        click.echo(f"{PROG}: hint: {summary.restored.hint()}", err=True)
    if summary.keyring_behind is not None:
        click.echo(f"{PROG}: warning: {summary.keyring_behind.message()}", err=True)
    if summary.keyring_swapped is not None:
        click.echo(f"{PROG}: warning: {summary.keyring_swapped.message()}", err=True)
    if summary.keyring_older is not None:
        click.echo(f"{PROG}: warning: {summary.keyring_older.message()}", err=True)
    if not summary.rebuilt:
        click.echo(
            f"{PROG}: warning: the workspace's database could not be rewritten after the import"
            " (a full disk, or another raazdar-review reading it): until an import rewrites it,"
            " the order of its pages on the disk may show that a packet was made before it",
            err=True,
        )
    stick_notice(
        bundle,
        f"names {summary.sources} source(s) and the day each of its {summary.items} item(s)"
        " came, to anyone who reads it",
        "once every reviewer who needs it has imported it",
    )
    gap_notice(u)
    destroy_after_import(c)


def stick_notice(path: Path, holds: str, until: str) -> None:
    """Say what a bundle left on a stick gives away, and that only overwriting the stick ends it."""
    click.echo(
        f"{PROG}: hint: {shown(path)} stays on its stick and {holds}; {until}, overwrite the whole"
        " stick (a new filesystem leaves its bytes there: docs/review-workstation.md,"
        ' "USB discipline")',
        err=True,
    )


def gap_notice(u: Unlocked) -> None:
    """Warn of export bundles that never arrived here, until they or a resend do; of
    reply bundles the server has not confirmed, until a receipt comes or they are taken back;
    of a server audit log written again between exports, or put back by a restore, always;
    of one no bundle here checks between two, until the bundles in between come; and of
    bundles a resend made up for, which never came here, always (someone holds them)."""
    rewritten = exports.audit_rewritten(u.conn)
    if rewritten is not None:
        click.echo(
            f"{PROG}: warning: the server's audit log was rewritten between exports: "
            f"{rewritten}. Entries of staff actions were removed or changed and the chain "
            "computed again, which the server's own check cannot see",
            err=True,
        )
        click.echo(
            f"{PROG}: hint: tell the administrators and the oversight body, not through the "
            "server: whoever holds its database, or seized it, may be hiding what they did",
            err=True,
        )
    for restored in exports.audit_restored(u.conn):
        click.echo(f"{PROG}: warning: {restored.message()}", err=True)
        click.echo(f"{PROG}: hint: {restored.hint()}", err=True)
    for earlier, later in exports.audit_unchecked(u.conn):
        click.echo(
            f"{PROG}: warning: the server's audit log is unchecked between bundles {earlier} "
            f"and {later}: only the bundles in between, which did not come here, show that "
            f"the entries bundle {earlier} saw are still the first of bundle {later}'s",
            err=True,
        )
        click.echo(
            f"{PROG}: hint: a server that rewrote its log and kept those bundles back (a "
            "resend makes up for their reports, not for this) is not seen; if they are lost, "
            "tell the administrators and the oversight body, not through the server",
            err=True,
        )
    gaps = exports.gaps(u.conn)
    message = gaps.message()
    if message is not None:
        click.echo(f"{PROG}: warning: {message}", err=True)
        click.echo(f"{PROG}: hint: {gaps.hint()}", err=True)
    elsewhere = gaps.elsewhere_message()
    if elsewhere is not None:
        click.echo(f"{PROG}: warning: {elsewhere}", err=True)
        click.echo(f"{PROG}: hint: {gaps.elsewhere_hint()}", err=True)
    unconfirmed = receipts.unconfirmed(u.conn)
    for bundle in unconfirmed:
        click.echo(f"{PROG}: warning: {bundle.message()}", err=True)
    if unconfirmed:
        click.echo(f"{PROG}: hint: {receipts.Unconfirmed.hint()}", err=True)


@click.command()
@click.argument("num", type=REPORT)
@click.option(
    "--file",
    "file",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="Read the reply from a UTF-8 file (otherwise $EDITOR opens).",
)
@click.option(
    "--allow-codename-key",
    is_flag=True,
    help="If the source's one-time reply keys are all used, seal to their codename key "
    "anyway: NOT forward-secret (whoever later learns the codename can read it).",
)
@pass_ctx
def reply(c: Ctx, num: int, file: Path | None, allow_codename_key: bool) -> None:
    """Write a reply to a report's source, sealed to them and signed by you.

    It goes to a one-time key the source's device gave, if one is left (forward-secret).
    """
    u = c.unlock()
    replies.refuse_disputed(u.conn, num)  # before the editor opens: it would be written in vain
    shared = replies.sharing_key(u.conn, num)
    if shared:  # before the editor opens too: the reviewer may not write it at all
        tell(f"{PROG}: warning: {replies.shared_key_warning(num, shared)}", err=True)
        tell(f"{PROG}: hint: {replies.SHARED_KEY_HINT}", err=True)
    queued = replies.queue_reply(
        u, num, compose(None, file, f"reply:{num}"), allow_codename_key=allow_codename_key
    )
    tell(f"report {num}: reply {queued.reply_id[:8]} queued for the next `exchange export`")
    tell(f"report {num}: {reply_sealing(queued, allow_codename_key)}")
    if queued.clock_behind is not None and queued.written is not None:
        warning = replies.clock_warning(queued.written, queued.clock_behind)
        tell(f"{PROG}: warning: {warning}", err=True)
        tell(f"{PROG}: hint: set this workstation's clock (UTC) before writing replies", err=True)


def reply_sealing(queued: replies.Queued, allowed: bool) -> str:
    """Say how a reply was sealed: forward-secret or not, and what is left."""
    if queued.forward_secret:
        return (
            "sealed to a one-time key of the source's device: forward-secret "
            f"({queued.prekeys_left} such key(s) left)"
        )
    why = "as you chose" if allowed else "this source gave no one-time keys"
    return f"sealed to the source's codename key ({why}): NOT forward-secret"


@groups.exchange.command("export")
@click.option(
    "--out",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="The reply bundle to write (must not exist).",
)
@pass_ctx
def export_replies(c: Ctx, out: Path) -> None:
    """Write a reply bundle: your queued replies, status notices, and acks of imports."""
    summary = replies.export_replies(c.unlock(), out)
    for left in summary.left:
        click.echo(
            f"{PROG}: warning: {shown(left)} is a reply bundle recorded here that an export cut"
            " short left under its temporary name: rename it and carry it, or take it back",
            err=True,
        )
    click.echo(
        f"wrote {shown(out)}: {summary.replies} reply(ies), {summary.notices} notice(s), "
        f"{summary.acks} acknowledgement(s)"
    )
    stick_notice(
        out,
        f"names the {summary.sources} source(s) it answers or sends a notice to, with the"
        " status each is shown; a reply in it sealed to a codename key opens for whoever"
        " learns that codename",
        "once the server has applied it",
    )
    if summary.waiting:
        click.echo(
            f"{PROG}: hint: {summary.waiting} reply(ies) by other reviewers wait for them",
            err=True,
        )
    if summary.held:
        click.echo(f"{PROG}: warning: {replies.held_back(summary.held)}", err=True)


@groups.exchange.command("take-back")
@click.argument("bundle_id")
@click.option(
    "--withdraw-reply",
    "withdraw",
    multiple=True,
    help="A reply the server refused (its id, or the first 8 characters): never sent again "
    "(the bundle taken back still posts it if it is applied before the next one).",
)
@click.option(
    "--drop-notice",
    "drop",
    multiple=True,
    help="A source whose notice the server refused (it no longer knows them).",
)
@pass_ctx
def reply_bundle_refused(
    c: Ctx, bundle_id: str, withdraw: tuple[str, ...], drop: tuple[str, ...]
) -> None:
    """Take back a reply bundle the server refused whole, or that was lost, for the next
    `exchange export`; that bundle voids this one, so the server never applies it after."""
    back = replies.take_back(c.unlock(), bundle_id, withdraw_replies=withdraw, drop_notices=drop)
    click.echo(
        f"bundle {back.bundle_id} taken back: {back.replies} reply(ies), {back.notices} "
        f"notice(s) and {back.acks} acknowledgement(s) wait for the next `exchange export`; "
        f"{back.withdrawn} withdrawn"
    )
    if back.withdrawn:
        # Only the void stops the old bundle, and only once the server has it: a copy
        # handed in first is applied whole, what was withdrawn included.
        click.echo(
            f"{PROG}: warning: the withdrawal holds only if the next reply bundle is applied "
            f"before bundle {back.bundle_id}: whoever keeps a copy of it can still hand it in "
            "first. Destroy every copy, and have staff apply the next bundle before any other",
            err=True,
        )
