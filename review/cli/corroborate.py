"""Commands for corroboration: entities across reports, one entity's reports, related reports.

Every link is shown with its evidence (each shared entity as each report writes
it) and its strength; weak links are counted apart from corroboration until a
reviewer confirms them (`links confirm`, `links reject`).
"""

from __future__ import annotations

import sys
from typing import Final

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from review import bidi
from review.analysis import corroboration, entities, links
from review.analysis.corpus import Corpus, Group, visible_corpus
from review.cli import groups, paging
from review.cli.base import PROG, Ctx, pass_ctx
from review.cli.sensitive import REPORT, ask, tell, warn_argument
from review.errors import InvalidValue
from review.present.text import RTL_MODES, reorders, safe

_KIND = click.Choice(entities.KINDS)
# Pairs shown per entity in `names show`; the rest are counted.
_PAIRS: Final = 30
_STATE_STYLE: Final = {
    links.STRONG: "bold green",
    links.CONFIRMED: "bold green",
    links.WEAK: "yellow",
    links.REJECTED: "dim",
}


_rtl_option: Final = click.option(
    "--rtl",
    type=click.Choice(RTL_MODES),
    help="Urdu names: reordered here (visual, the default on a terminal), or left in typed"
    " order for a terminal that lays out right-to-left text itself (logical, when piped).",
)


def _written(texts: tuple[str, ...], *, reorder: bool) -> Text:
    """Names as a report writes them: Urdu in visual order when asked, never steered."""
    shown = [bidi.visual(t) if reorder and bidi.has_rtl(t) else bidi.clean(t) for t in texts]
    return safe(" / ".join(shown))


def _state(e: links.Evidence) -> Text:
    return safe(e.state, _STATE_STYLE.get(e.state, ""))


def _evidence_lines(link: links.Link, *, reorder: bool) -> Text:
    """One line per shared entity: its state, kind, how each report writes it, its key."""
    out = Text()
    a, b = link.reports
    for i, e in enumerate(link.evidence):
        if i:
            out.append("\n")
        out.append_text(_state(e))
        out.append_text(safe(f" {e.kind}: #{a} "))
        out.append_text(_written(e.written[a], reorder=reorder))
        out.append_text(safe(f" = #{b} "))
        out.append_text(_written(e.written[b], reorder=reorder))
        out.append_text(safe(f"  [{e.key}; {e.strength.why}]", "dim"))
    return out


# The most spellings (or designations) of one entity a row of `names list --report` shows.
_SPELLINGS: Final = 5


@groups.names.command("list")
@click.option("--kind", type=_KIND, help="Only entities of this kind.")
@click.option("--report", "num", type=int, help="List one report's entities and their status.")
@click.option(
    "--min-sources", type=int, default=1, show_default=True, help="Only with this many sources."
)
@click.option("--limit", type=int, default=50, show_default=True, help="Show at most this many.")
@paging.paged
@pass_ctx
def entities_(c: Ctx, kind: str | None, num: int | None, min_sources: int, limit: int) -> None:
    """Rank entities by independent sources (likely-same-source reports count once)."""
    u = c.unlock()
    console = paging.console()
    if num is not None:
        console.print(safe(f"Entities of report {num}", "bold"))
        table = Table()
        for column in ("kind", "as written", "key", "designation", "status"):
            table.add_column(column)
        # A report may name thousands (drawing each row costs): `--limit` holds here too.
        mentions = [m for m in corroboration.report_mentions(u, num) if kind in (None, m.kind)]
        for m in mentions[:limit]:
            table.add_row(
                safe(m.kind),
                safe(_few(m.texts, " / ")),
                safe(m.key),
                safe(_few(m.designations, ", ")),
                safe(m.status, "dim" if m.status == "rejected" else ""),
            )
        console.print(table)
        if len(mentions) > limit:
            console.print(safe(f"{len(mentions) - limit:,} more: use --limit or --kind"))
        return
    groups = visible_corpus(u).groups(kind, min_sources=min_sources)
    if not groups:
        console.print("no entities")
        return
    table = Table()
    for column in ("kind", "name", "designation", "strength", "corroborating", "sources"):
        table.add_column(column)
    for column in ("designations", "reports"):
        table.add_column(column)
    for column in ("first", "last", "confirmed"):
        table.add_column(column)
    for g in groups[:limit]:
        table.add_row(
            safe(g.kind),
            safe(g.name),
            safe(", ".join(g.designations)),
            safe(g.strength.level, _STATE_STYLE.get(g.strength.level, "")),
            safe(g.corroborating if g.strength.level != links.CONTEXT else "-"),
            safe(g.sources, "bold" if g.corroborating > 1 else ""),
            safe(g.designations_of_sources),
            safe(len(g.reports)),
            safe(g.first.isoformat()),
            safe(g.last.isoformat()),
            safe("yes" if g.confirmed else ""),
        )
    console.print(table)
    if len(groups) > limit:
        console.print(safe(f"{len(groups) - limit} more: use --limit or --kind"))


def _few(items: tuple[str, ...], between: str) -> str:
    """At most `_SPELLINGS` of a mention's spellings or designations, and how many more."""
    more = f" (+{len(items) - _SPELLINGS:,} more)" if len(items) > _SPELLINGS else ""
    return between.join(items[:_SPELLINGS]) + more


@groups.names.command("show")
@click.argument("name", required=False, callback=warn_argument)
@click.option("--kind", type=_KIND, help="Only entities of this kind.")
@_rtl_option
@paging.paged
@pass_ctx
def entity(c: Ctx, name: str | None, kind: str | None, rtl: str | None) -> None:
    """Show every report naming NAME (asked for if left out), its sources, days and links."""
    corpus = visible_corpus(c.unlock())
    if name is None:
        name = ask("Name")
    found = corpus.lookup(name, kind)
    console = paging.console()
    reorder = reorders(rtl)
    if not found:
        console.print(safe(f"no report names {name!r}"))
        return
    for g in found:
        console.print(
            safe(f"\n{g.kind}: ", "bold")
            + _written((g.name,), reorder=reorder)
            + safe(f"  (key {g.key}; {g.strength.level}: {g.strength.why})")
            + safe(
                f"\n{len(g.reports)} reports, {g.sources} independent sources"
                f" ({g.designations_of_sources} source designations), {g.first} to {g.last}"
            )
            + safe("\n" + _counts(g))
        )
        table = Table()
        for column in ("#", "day", "source", "source group", "as written"):
            table.add_column(column)
        for n in g.reports:
            f = corpus.facts[n]
            table.add_row(
                safe(n),
                safe(f.day.isoformat()),
                safe(f.source),
                safe(_group_of(corpus, n)),
                _written(g.texts[n], reorder=reorder),
            )
        console.print(table)
        _print_pairs(console, corpus, g, reorder=reorder)
        if g.kind == "person":
            _print_short_forms(console, corpus, g, reorder=reorder)


def _counts(g: Group) -> str:
    if g.strength.level == links.CONTEXT:
        return f"not corroboration: {g.strength.why} never links reports"
    rest = g.sources - g.corroborating
    weak = f"; {rest} more only through weak or rejected links" if rest > 0 else ""
    joined = f"{g.corroborating} independent sources joined by strong or confirmed links"
    return f"corroboration: {joined}{weak}"


def _print_pairs(console: Console, corpus: Corpus, g: Group, *, reorder: bool) -> None:
    pairs, total = corpus.pairs(g, _PAIRS)
    if pairs and g.strength.level != links.CONTEXT:
        _pairs_table(console, "Links on this entity", pairs, total, reorder=reorder)


def _print_short_forms(console: Console, corpus: Corpus, g: Group, *, reorder: bool) -> None:
    """Links between a short form of the name in one report and the full name in another."""
    found = corpus.short_links(g.key)
    if found:
        title = "Short forms of this name linked to full names (short - full)"
        _pairs_table(console, title, found[:_PAIRS], len(found), reorder=reorder)


def _pairs_table(
    console: Console,
    title: str,
    pairs: list[tuple[int, int, links.Evidence]],
    total: int,
    *,
    reorder: bool,
) -> None:
    """Each pair of reports with its link's state, how each writes the name, and why."""
    table = Table(title=title)
    for column in ("reports", "link", "as written in each", "evidence"):
        table.add_column(column)
    for a, b, e in pairs:
        table.add_row(
            safe(f"#{a} - #{b}"),
            _state(e),
            _written(e.written[a], reorder=reorder)
            + safe(" = ")
            + _written(e.written[b], reorder=reorder),
            safe(f"{e.key}; {e.strength.why}", "dim"),
        )
    console.print(table)
    if total > len(pairs):
        console.print(safe(f"{total - len(pairs)} more pairs"))


@groups.links.command("show")
@click.argument("num", type=REPORT)
@_rtl_option
@paging.paged
@pass_ctx
def related(c: Ctx, num: int, rtl: str | None) -> None:
    """Show reports linked to report NUM, with each link's evidence and strength."""
    corpus = visible_corpus(c.unlock(), num)
    found = corpus.related(num)
    console = paging.console()
    reorder = reorders(rtl)
    same = {s.other: s.sure for s in found.same_source}
    if found.links:
        console.print(safe(f"Reports linked to report {num}", "bold"))
        table = Table()
        for column in ("#", "day", "source", "link", "evidence", "independent"):
            table.add_column(column)
        for other, link in found.links.items():
            f = corpus.facts[other]
            table.add_row(
                safe(other),
                safe(f.day.isoformat()),
                safe(f.source),
                safe(link.level, _STATE_STYLE.get(link.level, "")),
                _evidence_lines(link, reorder=reorder),
                safe(_independent(same.get(other))),
            )
        console.print(table)
    else:
        console.print(safe(f"no report is linked to report {num}"))
    console.print(
        safe(
            f"Corroboration: {found.corroborating} independent sources through strong or"
            f" confirmed links; {found.weak_only} more only through weak links, not counted"
            " until a reviewer confirms them (`links confirm`, `links reject`)."
        )
    )
    if found.context_only:
        console.print(
            safe(
                f"{found.context_only} more reports share only a district, agency or date:"
                " not a link."
            )
        )
    if found.near_duplicates:
        console.print(safe("\nNear-duplicate texts", "bold"))
        table = Table()
        table.add_column("#")
        table.add_column("similarity")
        for other, score in found.near_duplicates:
            table.add_row(safe(other), safe(f"{score:.0%}"))
        console.print(table)
    for title, listed in (
        ("Likely from the same source (counted as one)", found.same_source),
        ("Counted apart, though they share words, a file or a writer's contact", found.apart),
    ):
        if listed:
            console.print(safe(f"\n{title}", "bold"))
            table = Table()
            table.add_column("#")
            table.add_column("why")
            for s in listed:
                table.add_row(safe(s.other), safe(s.reason))
            console.print(table)
    if found.same_source or found.apart:
        console.print(
            safe(f"`links writer {num} OTHER same|apart` says they are one writer or two.")
        )


def _group_of(corpus: Corpus, num: int) -> str:
    """A report's source group as `names show` says it: "maybe" where only a claimed contact
    puts it there."""
    group = corpus.source_group(num)
    if group == num:
        return ""
    return f"with #{group}" if corpus.surely_grouped(num) else f"maybe with #{group}"


def _independent(sure: bool | None) -> str:
    """Whether a linked report is an independent source, as `links show` says it."""
    if sure is None:
        return "yes"
    return "no: likely same source" if sure else "no: maybe same source (a claimed contact)"


@groups.links.command("pending")
@click.option("--kind", type=_KIND, help="Only links on entities of this kind.")
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=_PAIRS,
    show_default=True,
    help="Show at most this many pairs.",
)
@_rtl_option
@paging.paged
@pass_ctx
def pending(c: Ctx, kind: str | None, limit: int, rtl: str | None) -> None:
    """Show the weak links waiting for a reviewer's word, those that would add most first."""
    waiting = visible_corpus(c.unlock()).pending(kind, limit)
    console = paging.console()
    reorder = reorders(rtl)
    if not waiting:
        console.print(safe("no weak link is waiting for a reviewer's word"))
        return
    for p in waiting:
        g = p.group
        console.print(
            safe(f"\n{g.kind}: ", "bold")
            + _written((g.name,), reorder=reorder)
            + safe(
                f"  (key {g.key}): {g.sources} independent sources,"
                f" {g.corroborating} joined by strong or confirmed links"
            )
        )
        title = (
            "Short forms not yet decided (short - full)"
            if p.short
            else "Weak links not yet decided"
        )
        _pairs_table(console, title, list(p.pairs), len(p.pairs), reorder=reorder)
        if p.more:
            console.print(safe(f"more such pairs on {g.key!r}: `names show` lists them", "dim"))
    console.print(
        safe(
            "\nEach is weak for the reason given. Read both reports (`report view NUM`),"
            " then `links confirm NUM OTHER NAME` (counted as corroboration from then on)"
            " or `links reject NUM OTHER NAME` (never shown again)."
        )
    )


def _link_command(name: str, decision: str, help_text: str) -> None:
    @groups.links.command(name, help=help_text)
    @click.argument("num", type=REPORT)
    @click.argument("other", type=REPORT)
    @click.argument("entity_name", metavar="NAME", required=False, callback=warn_argument)
    @click.option("--kind", type=_KIND, help="Which kind, when NAME is several.")
    @pass_ctx
    def command(c: Ctx, num: int, other: int, entity_name: str | None, kind: str | None) -> None:
        u = c.unlock()
        try:
            e = corroboration.decide_link(u, num, other, entity_name, decision, kind)
        except InvalidValue:
            if entity_name is not None or not sys.stdin.isatty():
                raise
            e = corroboration.decide_link(u, num, other, ask("Name"), decision, kind)
        tell(f"reports {num} and {other}: link on {_kind(e.kind)} {decision}")


_link_command(
    "confirm",
    links.CONFIRMED,
    "Confirm that reports NUM and OTHER name the same NAME (asked for when they share"
    " several): a weak link then counts as corroboration.",
)
_link_command(
    "reject",
    links.REJECTED,
    "Reject the link between reports NUM and OTHER on NAME: it is never shown or counted"
    " as corroboration again.",
)


@groups.links.command("writer")
@click.argument("num", type=REPORT)
@click.argument("other", type=REPORT)
@click.argument("decision", type=click.Choice(["same", "apart"]))
@pass_ctx
def writer(c: Ctx, num: int, other: int, decision: str) -> None:
    """Say reports NUM and OTHER are one writer's (same) or two writers' (apart)."""
    corroboration.decide_writer(c.unlock(), num, other, decision == "same")
    said = "one writer" if decision == "same" else "two writers"
    tell(f"reports {num} and {other}: counted as {said}")


# What a names command says back: not the name, which the scrollback would keep.
_LISTED: Final = f" (`{PROG} names list --report {{num}}` pages it)"


def _kind(kind: str) -> str:
    """`police_station` as "a police station", `agency` as "an agency"."""
    return f"{'an' if kind[:1] in 'aeiou' else 'a'} {kind.replace('_', ' ')}"


def _decision_command(name: str, decision: str, help_text: str) -> None:
    @groups.names.command(name, help=help_text)
    @click.argument("num", type=REPORT)
    @click.argument("entity_name", metavar="NAME", required=False, callback=warn_argument)
    @click.option("--kind", type=_KIND, help="Which kind, when NAME is several.")
    @pass_ctx
    def command(c: Ctx, num: int, entity_name: str | None, kind: str | None) -> None:
        u = c.unlock()
        m = corroboration.decide(u, num, entity_name or ask("Name"), decision, kind)
        tell(f"report {num}: {_kind(m.kind)} {decision}{_LISTED.format(num=num)}")


_decision_command("confirm", "confirmed", "Confirm an entity the tool found in report NUM.")
_decision_command(
    "reject", "rejected", "Reject an entity the tool found in report NUM (not counted)."
)


@groups.names.command("add")
@click.argument("num", type=REPORT)
@click.argument("kind", type=_KIND)
@click.argument("text", required=False, callback=warn_argument)
@click.option(
    "--designation",
    callback=warn_argument,
    help="A person's rank or designation (SHO, Patwari, …).",
)
@pass_ctx
def entity_add(c: Ctx, num: int, kind: str, text: str | None, designation: str | None) -> None:
    """Add an entity the tool missed in report NUM (TEXT is asked for if left out)."""
    u = c.unlock()
    m = corroboration.add(u, num, kind, text or ask("As written in the report"), designation)
    tell(f"report {num}: {_kind(m.kind)} added{_LISTED.format(num=num)}")


@groups.names.command("correct")
@click.argument("num", type=REPORT)
@click.argument("entity_name", metavar="NAME", required=False, callback=warn_argument)
@click.argument("text", required=False, callback=warn_argument)
@click.option("--kind", type=_KIND, help="Which kind, when NAME is several.")
@pass_ctx
def entity_correct(
    c: Ctx, num: int, entity_name: str | None, text: str | None, kind: str | None
) -> None:
    """Replace an entity the tool got wrong in report NUM with TEXT (both asked if left out)."""
    u = c.unlock()
    name = entity_name or ask("Name the tool found")
    m = corroboration.correct(u, num, name, text or ask("Correct it to"), kind)
    tell(f"report {num}: {_kind(m.kind)} corrected{_LISTED.format(num=num)}")


@groups.names.command("extract")
@click.argument("nums", type=REPORT, nargs=-1)
@pass_ctx
def entities_extract(c: Ctx, nums: tuple[int, ...]) -> None:
    """Run entity extraction again (on NUMS, or every report); reviewers' decisions stay."""
    count = corroboration.reextract(c.unlock(), nums or None)
    tell(f"entities extracted from {count} reports")
