"""Commands for escalation: the registry of bodies, packets, their follow-up, and opening one."""

from __future__ import annotations

import datetime as dt
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path

import click
from rich.table import Table

from crypto import KdfParams, KeyFile, KeyPair, PublicKey, VerifyKey
from crypto import constants as C
from crypto.errors import CryptoError, DecryptionError
from crypto.packet import open_packet
from review import escalation
from review.cli import groups, idle, paging
from review.cli.base import (
    PROG,
    Ctx,
    ask,
    compose,
    parse_date,
    pass_ctx,
    read_carried,
    read_key_file,
    shown,
)
from review.cli.keys import second_admin_option, with_second
from review.cli.sensitive import (
    REPORT,
    asked_lines,
    tell,
    warn_argument,
    warn_unless_number,
)
from review.cli.sensitive import ask as asked
from review.errors import InvalidValue, ReviewError
from review.escalation import bodies
from review.escalation.opened import render, write_new, write_opened
from review.escalation.packets import Confirm, Selection
from review.escalation.redaction import Candidate, Term, parse_term
from review.present.text import safe
from review.workspace import Unlocked

_FILE = click.Path(path_type=Path, dir_okay=False, exists=True)
_NEW_FILE = click.Path(path_type=Path, dir_okay=False)
BODY_KEY_KIND = "escalation-body"


@groups.bodies.command("keygen")
@click.option("--out", required=True, type=_NEW_FILE, help="The body's new key file.")
@click.option("--label", required=True, help="The body's name, shown when the file is unlocked.")
@click.option("--fast-kdf", is_flag=True, hidden=True, help="Fast key derivation (tests only).")
def bodies_keygen(out: Path, label: str, fast_kdf: bool) -> None:
    """For a body: make its key file (X25519 + Ed25519), to open the packets sent to it."""
    if out.exists() or out.is_symlink():
        raise ReviewError(f"{out} already exists", hint="choose a new file name")
    passphrase: str = idle.prompt(
        f"New passphrase for {label}", hide_input=True, confirmation_prompt=True, err=True
    )
    if len(passphrase) < 12:
        raise InvalidValue("a key file passphrase has at least 12 characters")
    try:
        file = KeyFile.create(
            KeyPair.generate(),
            passphrase,
            kind=BODY_KEY_KIND,
            label=label,
            params=KdfParams.TESTING if fast_kdf else KdfParams.SENSITIVE,
        )
    except CryptoError as exc:
        raise InvalidValue(str(exc)) from exc
    write_new(out, file.to_bytes())
    click.echo(
        f"wrote {shown(out)}: give reviewers this file's public keys (the file is safe to copy:"
    )
    click.echo("its secrets open only with the passphrase), or these lines:")
    click.echo(f"  {file.public['x25519']}")
    click.echo(f"  {file.public['ed25519']}")
    assert file.encryption_public is not None  # noqa: S101 - made with one above
    click.echo(f"fingerprint: {file.encryption_public.fingerprint}")


@groups.bodies.command("add")
@click.option(
    "--name",
    callback=warn_argument,
    help="The body's name (e.g. an anti-corruption office); asked for if left out.",
)
@click.option(
    "--jurisdiction",
    callback=warn_argument,
    help="Where and over whom it has authority; asked for if left out.",
)
@click.option(
    "--contact", callback=warn_argument, help="How to deliver packets to it and reach it."
)
@click.option("--contact-file", type=_FILE, help="Contact instructions from a UTF-8 file.")
@click.option("--key-file", type=_FILE, help="The body's key file (only its public keys are read).")
@click.option("--encryption-key", help="The body's X25519 key (rz-x25519-public:…).")
@click.option("--signing-key", help="The body's Ed25519 key (rz-ed25519-public:…).")
@second_admin_option
@pass_ctx
def bodies_add(
    c: Ctx,
    name: str | None,
    jurisdiction: str | None,
    contact: str | None,
    contact_file: Path | None,
    key_file: Path | None,
    encryption_key: str | None,
    signing_key: str | None,
    second_admin: Path | None,
) -> None:
    """Register a body and its keys (administrators only)."""
    if (key_file is None) == (encryption_key is None):
        raise click.UsageError("give --key-file or --encryption-key")
    try:
        if key_file is not None:
            enc, sig = bodies.keys_from_file(read_key_file(key_file))
        else:
            assert encryption_key is not None  # noqa: S101 - checked above
            enc = PublicKey.from_text(encryption_key)
            sig = VerifyKey.from_text(signing_key) if signing_key else None
    except CryptoError as exc:
        raise InvalidValue(f"bad key: {exc}") from exc
    name = name or asked("The body's name")
    jurisdiction = jurisdiction or asked("Where and over whom it has authority")
    body = bodies.add_body(
        with_second(c.unlock(), second_admin),
        name=name,
        jurisdiction=jurisdiction,
        contact=compose(contact, contact_file, "bodies:add"),
        encryption_key=enc,
        signing_key=sig,
    )
    click.echo(f"body {body.id}: {body.name}, key {body.encryption_key.fingerprint}")


@groups.bodies.command("retire")
@click.argument("body", callback=warn_unless_number)
@pass_ctx
def bodies_retire(c: Ctx, body: str) -> None:
    """Retire BODY (number or name; administrators only): nothing is sealed or sent to it again.

    For a key lost, leaked or replaced, or a body no longer trusted. Packets
    drafted for it and not yet sent stop; register its new key with `bodies add`.
    """
    retired = bodies.retire_body(c.unlock(), body)
    click.echo(
        f"body {retired.id}: {safe(retired.name)} retired; "
        f"key {retired.encryption_key.fingerprint} is not sealed to again"
    )


@groups.bodies.command("confirm")
@click.argument("body", callback=warn_unless_number)
@pass_ctx
def bodies_confirm(c: Ctx, body: str) -> None:
    """Vouch for BODY's key as an administrator in service (number or name).

    Needed once everyone who registered it was revoked: until then nothing is
    sealed to it. Compare its key's fingerprint with the body's own first, not
    through anyone who left.
    """
    confirmed = bodies.confirm_body(c.unlock(), body)
    vouched = ", ".join(confirmed.vouched)
    click.echo(
        f"body {confirmed.id}: {safe(confirmed.name)}, key"
        f" {confirmed.encryption_key.fingerprint}, vouched for by {safe(vouched)}"
    )


@groups.bodies.command("list")
@paging.paged
@pass_ctx
def bodies_list(c: Ctx) -> None:
    """List the registered bodies, their keys' fingerprints and how to reach them."""
    u = c.unlock()
    found = bodies.list_bodies(u)
    console = paging.console()
    if not found:
        console.print("no bodies registered")
        return
    table = Table()
    for column in ("#", "name", "jurisdiction", "fingerprint", "contact", "status"):
        table.add_column(column)
    unconfirmed = bodies.unconfirmed(u, found)
    for b in found:
        cells = (
            b.id,
            b.name,
            b.jurisdiction,
            b.encryption_key.fingerprint,
            b.contact,
            _status(b, b.id in unconfirmed),
        )
        table.add_row(*(safe(cell) for cell in cells))
    console.print(table)


def _status(body: bodies.Body, unconfirmed: bool) -> str:
    """A body's status in the list: retired, unconfirmed (its vouchers revoked), or in use."""
    if body.retired is not None:
        return f"retired {body.retired}"
    return "unconfirmed: `bodies confirm`" if unconfirmed else ""


def _pair(value: str) -> tuple[int, int]:
    report, sep, index = value.partition(":")
    if not sep or not report.strip().isdigit() or not index.strip().isdigit():
        raise click.BadParameter(f"{value!r}: use REPORT:ATTACHMENT, e.g. 12:1")
    return int(report), int(index)


def _confirmer(yes: tuple[str, ...], keep: tuple[str, ...], used: set[str]) -> Confirm:
    def confirm(candidate: Candidate) -> bool:
        for term in yes:
            if candidate.names(term):
                used.add(term)
                return True
        if any(candidate.names(term) for term in keep):
            return False
        others = f" (also written {', '.join(candidate.forms[1:])})" if candidate.forms[1:] else ""
        question = safe(
            f"Redact {candidate.kind} {candidate.forms[0]!r}, seen {candidate.count} time(s)"
            f"{others}?"
        ).plain
        # Asked aside: the scrollback would keep every name redacted, the victim's first.
        with idle.aside():
            answer: bool = idle.confirm(question, default=True, err=True)
        return answer

    return confirm


@groups.escalation.command("new")
@click.argument("nums", nargs=-1, required=True, type=REPORT)
@click.option(
    "--to",
    "to",
    required=True,
    callback=warn_unless_number,
    help="The body: its number or name (`bodies list`).",
)
@click.option(
    "--summary",
    callback=warn_argument,
    help="The summary for the body (else --summary-file or $EDITOR).",
)
@click.option("--summary-file", type=_FILE, help="Read the summary from a UTF-8 file.")
@click.option(
    "--redact",
    multiple=True,
    callback=warn_argument,
    help="Also redact this: [KIND:]SPELLING[|SPELLING…], e.g. person:Shazia|شازیہ.",
)
@click.option(
    "--yes-redact",
    multiple=True,
    callback=warn_argument,
    help="Redact this suggested detail without asking.",
)
@click.option(
    "--keep",
    multiple=True,
    callback=warn_argument,
    help="Keep this suggested detail (e.g. an official's name).",
)
@click.option("--attach", multiple=True, help="Include attachment REPORT:N, metadata removed.")
@click.option("--all-attachments", is_flag=True, help="Include every attachment of the reports.")
@click.option("--as-is", multiple=True, help="Include attachment REPORT:N unchanged (warned).")
@click.option(
    "--deadline-days",
    type=click.IntRange(1, 365),
    default=escalation.DEFAULT_DEADLINE_DAYS,
    show_default=True,
    help="Days after sending by which the body should answer.",
)
@click.option(
    "--say-writers",
    is_flag=True,
    help="Count each shared detail's independent writers (tells the body which reports are one's).",
)
@click.option(
    "--out", type=_NEW_FILE, help="Write the packet here now, if no countersignature is needed."
)
@pass_ctx
def escalate_cmd(
    c: Ctx,
    nums: tuple[int, ...],
    to: str,
    summary: str | None,
    summary_file: Path | None,
    redact: tuple[str, ...],
    yes_redact: tuple[str, ...],
    keep: tuple[str, ...],
    attach: tuple[str, ...],
    all_attachments: bool,
    as_is: tuple[str, ...],
    deadline_days: int,
    say_writers: bool,
    out: Path | None,
) -> None:
    """Build a packet of reports for a body: redacted, scrubbed, signed, sealed to it."""
    u = c.unlock()
    if out is not None and (out.exists() or out.is_symlink()):
        raise ReviewError(f"{out} already exists", hint="choose a new file name")
    selection = Selection(
        attach=frozenset(_pair(a) for a in attach),
        all_attachments=all_attachments,
        as_is=frozenset(_pair(a) for a in as_is),
    )
    used: set[str] = set()

    def extra() -> Iterator[Term]:
        # Read only once every suggestion is decided: a --yes-redact term that
        # matched none is redacted all the same.
        yield from (parse_term(t) for t in redact)
        yield from (parse_term(t) for t in yes_redact if t not in used)
        label = "Also redact ([KIND:]SPELLING[|SPELLING…]; blank to finish)"
        yield from (parse_term(t) for t in asked_lines(label, interactive=sys.stdin.isatty()))

    created = escalation.escalate(
        u,
        list(nums),
        to,
        summary=compose(summary, summary_file, f"escalation:new:{':'.join(map(str, nums))}"),
        selection=selection,
        extra_terms=extra(),
        confirm=_confirmer(yes_redact, keep, used),
        deadline_days=deadline_days,
        writers=say_writers,
    )
    esc = created.escalation
    for warning in created.warnings:
        tell(f"{PROG}: warning: {warning}", err=True)
    r = esc.record
    tell(
        f"escalation {esc.id}: packet {r.packet[:8]} with {len(r.reports)} report(s), "
        f"{len(r.redactions)} redaction(s), {len(r.files)} file(s)"
    )
    if r.state == "draft":
        tell(
            f"it needs {esc.needs} countersignature(s): another reviewer runs "
            f"`{PROG} escalation countersign {esc.id}`"
        )
        if out is not None:
            tell(f"{PROG}: hint: {shown(out)} was not written", err=True)
    elif out is not None:
        _send_made(u, esc.id, out, "made")
    else:
        tell(f"write it with `{PROG} escalation export {esc.id} --out FILE`")


def _send_made(u: Unlocked, esc_id: int, out: Path, done: str) -> None:
    """Export an escalation this command has just made or countersigned (`--out`).

    What it did is kept whatever the export meets: said as the command's failure ("nothing
    of this command was kept … run it again"), it had the reviewer make a second escalation
    of the same reports.
    """
    try:
        esc = escalation.export(u, esc_id, out)
    except (ReviewError, sqlite3.Error, OSError) as exc:
        raise ReviewError(
            f"escalation {esc_id} was {done} and kept, but its packet was not written: {exc}",
            hint=f"write it with `{PROG} escalation export {esc_id} --out FILE`",
        ) from exc
    _report_sent(esc, out)


def _report_sent(esc: escalation.Escalation, out: Path) -> None:
    reports = ", ".join(str(n) for n in esc.record.reports)
    tell(
        f"wrote {shown(out)}: report(s) {reports} escalated;"
        f" an answer is due by {esc.record.deadline}"
    )


@groups.escalation.command("rule")
@click.argument("countersignatures", type=click.IntRange(0, 3))
@second_admin_option
@pass_ctx
def escalation_rule(c: Ctx, countersignatures: int, second_admin: Path | None) -> None:
    """Set how many other reviewers countersign each new packet (1 = two-person rule; admins)."""
    escalation.set_policy(with_second(c.unlock(), second_admin), countersignatures)
    click.echo(f"new packets need {countersignatures} countersignature(s)")


@groups.escalation.command("list")
@click.option("--overdue", is_flag=True, help="Only escalations past their deadline.")
@paging.paged
@pass_ctx
def escalation_list(c: Ctx, overdue: bool) -> None:
    """List escalations: body, reports, state, deadline; overdue ones are flagged."""
    u = c.unlock()
    rows = [e for e in escalation.list_escalations(u) if not overdue or e.overdue()]
    console = paging.console()
    if not rows:
        console.print("no escalations")
        return
    names = {b.id: b.name for b in bodies.list_bodies(u)}
    table = Table()
    for column in ("#", "body", "reports", "state", "author", "sent", "deadline"):
        table.add_column(column)
    for e in rows:
        r = e.record
        state = f"{r.state} (needs {e.needs})" if r.state == "draft" else r.state
        deadline = safe(r.deadline or "")
        if e.overdue():
            deadline = safe(f"{r.deadline} OVERDUE", "bold red")
        table.add_row(
            safe(e.id),
            safe(names.get(e.body, e.body)),
            safe(", ".join(str(n) for n in r.reports)),
            safe(state),
            safe(e.author),
            safe(r.sent or ""),
            deadline,
        )
    console.print(table)


@groups.escalation.command("show")
@click.argument("esc_id", type=int)
@paging.paged
@pass_ctx
def escalation_show(c: Ctx, esc_id: int) -> None:
    """Show what a packet says, exactly as the body will read it, and its redactions."""
    u = c.unlock()
    esc = escalation.load(u, esc_id)
    sealed, content = escalation.packet(u, esc)
    console = paging.console()
    body = escalation.body_of(u, esc)
    console.print(safe(f"Escalation {esc.id} to {body.name}: {esc.record.state}", "bold"))
    for s in esc.record.signatures:
        console.print(safe(f"signed by {s['reviewer']}"))
    console.print(safe("\nRedactions (kept in the workspace, never in the packet)", "bold"))
    for r in esc.record.redactions:
        console.print(safe(f"  {r['form']} -> {r['pseudonym']}"))
    # Never read as markup: a report's "[conceal]" would hide its words from this reader.
    console.print(safe(render(content.document, [f.name for f in content.files])))
    del sealed


@groups.escalation.command("countersign")
@click.argument("esc_id", type=int)
@click.option("--yes", is_flag=True, help="Countersign without asking (after `escalation show`).")
@click.option("--out", type=_NEW_FILE, help="Then write the packet here, if it is complete.")
@pass_ctx
def escalation_countersign(c: Ctx, esc_id: int, yes: bool, out: Path | None) -> None:
    """Countersign another reviewer's draft, having read it (`escalation show`)."""
    u = c.unlock()
    esc = escalation.load(u, esc_id)
    if not yes:
        _sealed, content = escalation.packet(u, esc)
        drawn = render(content.document, [f.name for f in content.files])
        if paging.on_a_terminal():
            paging.page(drawn)  # out of the scrollback, as `escalation show`
        else:
            click.echo(drawn, err=True)
        idle.confirm("Countersign this packet?", abort=True, err=True)
    esc = escalation.countersign(u, esc_id)
    click.echo(f"escalation {esc_id}: countersigned, {esc.record.state}")
    if out is not None and esc.record.state == "ready":
        _send_made(u, esc_id, out, "countersigned")


@groups.escalation.command("export")
@click.argument("esc_id", type=int)
@click.option("--out", required=True, type=_NEW_FILE, help="The packet file to write.")
@pass_ctx
def escalation_export(c: Ctx, esc_id: int, out: Path) -> None:
    """Write a complete packet for delivery; the first time marks it sent."""
    _report_sent(escalation.export(c.unlock(), esc_id, out), out)


@groups.escalation.command("ack")
@click.argument("esc_id", type=int)
@click.option("--note", callback=warn_argument, help="What the body said.")
@click.option("--deadline", callback=parse_date, help="A new deadline for action (YYYY-MM-DD).")
@pass_ctx
def escalation_ack(c: Ctx, esc_id: int, note: str | None, deadline: dt.date | None) -> None:
    """Record that the body acknowledged a packet."""
    esc = escalation.acknowledge(c.unlock(), esc_id, note, deadline)
    click.echo(f"escalation {esc_id}: acknowledged; action due by {esc.record.deadline}")


@groups.escalation.command("acted")
@click.argument("esc_id", type=int)
@click.option("--note", callback=warn_argument, help="What the body did.")
@pass_ctx
def escalation_acted(c: Ctx, esc_id: int, note: str | None) -> None:
    """Record that the body acted on a packet."""
    escalation.acted(c.unlock(), esc_id, note)
    click.echo(f"escalation {esc_id}: acted on")


@groups.bodies.command("open")
@click.argument("file", type=_FILE)
@click.option("--key-file", required=True, type=_FILE, help="The body's key file.")
@click.option(
    "--out",
    required=True,
    type=click.Path(path_type=Path, file_okay=False),
    help="A new directory for the contents.",
)
@click.option(
    "--signer",
    "signers",
    multiple=True,
    metavar="[NAME=]KEY",
    help="A reviewer key to trust (rz-ed25519-public:…), with the reviewer's name so that"
    " several keys of one person count once; repeat.",
)
@click.option(
    "--min-signers",
    type=click.IntRange(1, 16),
    default=1,
    show_default=True,
    help="Refuse packets signed by fewer people.",
)
@click.option(
    "--countersignatures",
    type=click.IntRange(0, 15),
    default=0,
    show_default=True,
    help="Your two-person rule: countersigners besides the author (1 = two people);"
    " needs --signer.",
)
def open_packet_cmd(
    file: Path,
    key_file: Path,
    out: Path,
    signers: tuple[str, ...],
    min_signers: int,
    countersignatures: int,
) -> None:
    """For a body: verify a packet, decrypt it, and write its contents to a new directory."""
    if out.exists() or out.is_symlink():
        raise ReviewError(f"{out} already exists", hint="choose a new directory")
    try:
        trusted = _people(signers) if signers else None
        keys = KeyFile.from_bytes(read_key_file(key_file))
    except CryptoError as exc:
        raise InvalidValue(str(exc)) from exc
    # Before the passphrase is asked for: what stands on the stick may be refused at once.
    packet = read_carried(file, C.PACKET_MAX_BYTES, "a packet")
    try:
        pair = keys.unlock(ask(keys.label))
    except DecryptionError as exc:
        raise ReviewError(
            "the key file does not unlock", hint="wrong passphrase, or the key file was altered"
        ) from exc
    if pair.encryption is None:
        raise ReviewError("the key file holds no X25519 key")
    try:
        opened = open_packet(
            packet,
            pair.encryption,
            trusted,
            min_signers=min_signers,
            countersignatures=countersignatures,
        )
    except DecryptionError as exc:
        raise ReviewError(
            "the packet does not open with this key",
            hint="it is sealed to another body, or damaged",
        ) from exc
    except CryptoError as exc:
        raise ReviewError(
            f"the packet is refused: {exc}", hint="it was altered, or is not genuine"
        ) from exc
    write_opened(opened, out)
    click.echo(
        f"wrote {shown(out)}: packet {opened.content.packet_id},"
        f" {len(opened.content.files)} file(s)"
    )
    for key in opened.signers:
        role = "author" if key == opened.author else "countersigner"
        click.echo(f"signed by {role} {key.fingerprint}")
    if trusted is None:
        click.echo(
            f"{PROG}: warning: the signatures verify, but no --signer was given: compare these"
            " fingerprints with the reviewers' through a channel you trust",
            err=True,
        )


def _people(signers: tuple[str, ...]) -> dict[VerifyKey, str]:
    """Each `[NAME=]KEY` as key -> person; a key without a name is a person of its own."""
    people = {}
    for spec in signers:
        name, _, text = spec.rpartition("=")  # key text is unpadded: it holds no "="
        key = VerifyKey.from_text(text)
        people[key] = name.strip() or key.to_text()
    return people
