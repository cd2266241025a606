"""`raazdar-review keys subkeys …`: issue a weekly subkey list, show the store, destroy weeks."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from crypto import Period
from crypto import constants as C
from crypto.errors import FormatError
from review.cli import groups
from review.cli.base import PROG, Ctx, pass_ctx, read_carried, shown
from review.errors import ReviewError
from review.keys import subkeys
from review.keys.ceremony import write_new
from review.workspace.erase import destroy as destroy_file


def today() -> dt.date:
    """The UTC date, which weeks are counted in."""
    return dt.datetime.now(dt.UTC).date()


def _periods(periods: tuple[Period, ...]) -> str:
    return ", ".join(str(p) for p in periods) or "none"


@groups.subkeys.command("new")
@click.option(
    "--out",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="Where to write the signed public list for the server (must not exist).",
)
@click.option(
    "--weeks",
    type=click.IntRange(1, C.SUBKEYS_MAX_PERIODS),
    default=C.SUBKEYS_PERIODS_AHEAD,
    show_default=True,
    help="How many weeks from this one the list covers; weeks held already keep their keys.",
)
@click.option(
    "--rekey",
    is_flag=True,
    help="A copy of the subkeys leaked: give this week and every held week after it new keys "
    "(the replaced ones are kept until their week may go, for what was sealed to them).",
)
@pass_ctx
def new(c: Ctx, out: Path, weeks: int, rekey: bool) -> None:
    """Make subkeys for the weeks ahead and write the signed list an administrator installs."""
    # Refused before the list is numbered and its weeks' secrets made: a name mistyped
    # spent a number, and the secrets of a list no one would install stayed.
    if out.exists() or out.is_symlink():
        raise ReviewError(f"{shown(out)} already exists", hint="give --out a new file's name")
    u = c.unlock()
    signed, made = subkeys.issue(u, weeks, today(), rekey=rekey)
    write_new(out, signed.to_bytes())  # flushed; removed if the stick fills mid-write
    listed = signed.subkeys
    if rekey:
        click.echo(f"subkey list {listed.first} to {listed.last} written to {shown(out)}")
        click.echo(f"new keys for {_periods(made)}")
        click.echo(
            f"{PROG}: hint: carry it to the server: "
            f"`raazdar keyring subkeys install --rekeyed {shown(out.name)}` (today: until then"
            " reports are sealed to the leaked keys)",
            err=True,
        )
        click.echo(
            f"{PROG}: hint: and have a timestamp signed naming it (list {listed.sequence}): "
            f"`raazdar-review keys timestamp --key-file … --subkeys {shown(out.name)} --out …`, "
            "so devices that keep nothing refuse the leaked list too",
            err=True,
        )
        return
    click.echo(
        f"subkey list {listed.first} to {listed.last} written to {shown(out)} "
        f"({len(made)} new week(s): {_periods(made)})"
    )
    click.echo(
        f"{PROG}: hint: carry it to the server:"
        f" `raazdar keyring subkeys install {shown(out.name)}`",
        err=True,
    )


@groups.subkeys.command("status")
@pass_ctx
def status(c: Ctx) -> None:
    """Show the weeks whose secrets are held and destroyed, and what may go today."""
    s = subkeys.status(c.unlock(), today())
    click.echo(f"held: {_periods(s.held)}")
    click.echo(f"destroyed: {_periods(s.destroyed)}")
    click.echo(f"imported through: {s.imported_through or 'unknown (no complete export chain)'}")
    click.echo(f"destroyable today: {_periods(s.destroyable)}")
    if s.waiting:
        click.echo(f"kept for items waiting here: {_periods(s.waiting)}")
    click.echo(f"days left: {s.days_left}")
    if s.days_left < C.SUBKEYS_WARN_DAYS:
        click.echo(f"{PROG}: warning: the subkeys run out in {s.days_left} day(s)", err=True)
        click.echo(f"{PROG}: hint: `raazdar-review keys subkeys new --out FILE`", err=True)
    warn_held_back(s)


def warn_held_back(s: subkeys.Status) -> None:
    """Warn of weeks whose secrets rule D1 keeps long past their end, and of backdated bundles.

    D1 trusts the dates the server gives its bundles; this workstation's clock
    is what shows a server dating them in the past to keep the secrets here.
    """
    for late in s.backdated:
        click.echo(f"{PROG}: warning: {late.message()}", err=True)
    if s.overdue:
        weeks = str(s.overdue[0]) if len(s.overdue) == 1 else f"{s.overdue[0]} to {s.overdue[-1]}"
        newest = (
            f"the newest export bundle with its chain complete is dated {s.newest_export}"
            if s.newest_export is not None
            else "no export bundle with its chain complete is imported"
        )
        click.echo(
            f"{PROG}: warning: the secret subkeys of {weeks} are still held, over "
            f"{subkeys.OVERDUE_DAYS} days after the week ended by this workstation's clock: "
            f"rule D1 lets a week go once a bundle dated after it is imported, and {newest}",
            err=True,
        )
    if s.overdue or s.backdated:
        click.echo(
            f"{PROG}: hint: if bundles reach this workstation regularly, the server may be "
            "dating its export bundles in the past, and so keeping these weeks' reports open "
            "to whoever seizes this workstation: tell the administrators (check the server's "
            "clock and `raazdar export` there); a missing bundle holds weeks back too",
            err=True,
        )


@groups.subkeys.command("destroy")
@click.option(
    "--week",
    "weeks",
    multiple=True,
    help="A week to destroy, as 2026-W49 (repeatable); default: every destroyable week.",
)
@pass_ctx
def destroy(c: Ctx, weeks: tuple[str, ...]) -> None:
    """Destroy the secrets of weeks whose envelopes are all imported (rule D1)."""
    try:
        named = [Period.parse(w) for w in weeks] if weeks else None
    except FormatError as exc:
        raise click.BadParameter(str(exc), param_hint="--week") from exc
    gone = subkeys.destroy_weeks(c.unlock(), today(), named)
    click.echo(f"destroyed: {_periods(gone)}")


def destroy_after_import(c: Ctx) -> None:
    """Destroy what an import made destroyable, say so, and warn of weeks held past their end."""
    u = c.unlock()
    day = today()
    gone = subkeys.after_import(u, day)
    if gone:
        click.echo(f"subkeys destroyed (everything sealed to them is imported): {_periods(gone)}")
    warn_held_back(subkeys.status(u, day))


@groups.subkeys.command("adopt")
@click.argument("secrets", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument(
    "listed", metavar="LIST", type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@pass_ctx
def adopt(c: Ctx, secrets: Path, listed: Path) -> None:
    """Take in subkey secrets made elsewhere (a demo's) that match LIST you signed; destroy SECRETS.

    The file is destroyed once adopted: a copy left would open every week it
    holds, after the workstation destroyed that week.
    """
    # Read before the passphrase is asked: what stands on the stick may be refused at once.
    held = read_carried(secrets, C.SUBKEY_SECRETS_MAX_BYTES, "subkey secrets")
    signed = read_carried(listed, C.SUBKEYS_MAX_BYTES, "a subkey list")
    added = subkeys.adopt(c.unlock(), held, signed, today())
    destroy_file(secrets)
    click.echo(f"adopted: {_periods(added)}; {secrets} destroyed")
