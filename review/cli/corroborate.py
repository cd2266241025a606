"""Commands for corroboration: entities across reports, one entity's reports, related reports."""

from __future__ import annotations

import click
from rich.table import Table

from review import corroboration, entities
from review.cli.base import Ctx, cli, make_console, pass_ctx, safe
from review.cli.sensitive import ask, warn_argument

_KIND = click.Choice(entities.KINDS)


@cli.command("entities")
@click.option("--kind", type=_KIND, help="Only entities of this kind.")
@click.option("--report", "num", type=int, help="List one report's entities and their status.")
@click.option(
    "--min-sources", type=int, default=1, show_default=True, help="Only with this many sources."
)
@click.option("--limit", type=int, default=50, show_default=True, help="Show at most this many.")
@pass_ctx
def entities_(c: Ctx, kind: str | None, num: int | None, min_sources: int, limit: int) -> None:
    """Rank entities by independent sources (likely-same-source reports count once)."""
    u = c.unlock()
    console = make_console()
    if num is not None:
        console.print(safe(f"Entities of report {num}", "bold"))
        table = Table()
        for column in ("kind", "as written", "key", "designation", "status"):
            table.add_column(column)
        for m in corroboration.report_mentions(u, num):
            if kind is None or m.kind == kind:
                table.add_row(
                    safe(m.kind),
                    safe(" / ".join(m.texts)),
                    safe(m.key),
                    safe(", ".join(m.designations)),
                    safe(m.status, "dim" if m.status == "rejected" else ""),
                )
        console.print(table)
        return
    groups = corroboration.Corpus.load(u).groups(kind, min_sources=min_sources)
    if not groups:
        console.print("no entities")
        return
    table = Table()
    for column in ("kind", "name", "designation", "sources", "designations", "reports"):
        table.add_column(column)
    for column in ("first", "last", "confirmed"):
        table.add_column(column)
    for g in groups[:limit]:
        table.add_row(
            safe(g.kind),
            safe(g.name),
            safe(", ".join(g.designations)),
            safe(g.sources, "bold" if g.sources > 1 else ""),
            safe(g.designations_of_sources),
            safe(len(g.reports)),
            safe(g.first.isoformat()),
            safe(g.last.isoformat()),
            safe("yes" if g.confirmed else ""),
        )
    console.print(table)
    if len(groups) > limit:
        console.print(safe(f"{len(groups) - limit} more: use --limit or --kind"))


@cli.command("entity")
@click.argument("name", required=False, callback=warn_argument)
@click.option("--kind", type=_KIND, help="Only entities of this kind.")
@pass_ctx
def entity(c: Ctx, name: str | None, kind: str | None) -> None:
    """Show every report naming NAME (asked for if left out), its sources and days."""
    corpus = corroboration.Corpus.load(c.unlock())
    if name is None:
        name = ask("Name")
    found = corpus.lookup(name, kind)
    console = make_console()
    if not found:
        console.print(safe(f"no report names {name!r}"))
        return
    for g in found:
        console.print(
            safe(f"\n{g.kind}: {g.name}", "bold")
            + safe(f"  (key {g.key})")
            + safe(
                f"\n{len(g.reports)} reports, {g.sources} independent sources"
                f" ({g.designations_of_sources} source designations), {g.first} to {g.last}"
            )
        )
        table = Table()
        for column in ("#", "day", "source", "source group", "as written"):
            table.add_column(column)
        for n in g.reports:
            f = corpus.facts[n]
            group = corpus.source_group(n)
            table.add_row(
                safe(n),
                safe(f.day.isoformat()),
                safe(f.source),
                safe(f"with #{group}" if group != n else ""),
                safe(" / ".join(g.texts[n])),
            )
        console.print(table)


@cli.command("related")
@click.argument("num", type=int)
@pass_ctx
def related(c: Ctx, num: int) -> None:
    """Show reports sharing entities with report NUM; copies and same-source reports apart."""
    corpus = corroboration.Corpus.load(c.unlock())
    found = corpus.related(num)
    console = make_console()
    same = {s.other for s in found.same_source}
    if found.shared:
        console.print(safe(f"Reports sharing entities with report {num}", "bold"))
        table = Table()
        for column in ("#", "day", "source", "shared", "independent"):
            table.add_column(column)
        for other, groups in found.shared.items():
            f = corpus.facts[other]
            table.add_row(
                safe(other),
                safe(f.day.isoformat()),
                safe(f.source),
                safe("; ".join(f"{g.kind}: {g.name}" for g in groups)),
                safe("no: likely same source" if other in same else "yes"),
            )
        console.print(table)
    else:
        console.print(safe(f"no report shares an entity with report {num}"))
    if found.near_duplicates:
        console.print(safe("\nNear-duplicate texts", "bold"))
        table = Table()
        table.add_column("#")
        table.add_column("similarity")
        for other, score in found.near_duplicates:
            table.add_row(safe(other), safe(f"{score:.0%}"))
        console.print(table)
    if found.same_source:
        console.print(safe("\nLikely from the same source (counted as one)", "bold"))
        table = Table()
        table.add_column("#")
        table.add_column("why")
        for s in found.same_source:
            table.add_row(safe(s.other), safe(s.reason))
        console.print(table)


def _decision_command(name: str, decision: str, help_text: str) -> None:
    @cli.command(name, help=help_text)
    @click.argument("num", type=int)
    @click.argument("entity_name", metavar="NAME", required=False, callback=warn_argument)
    @click.option("--kind", type=_KIND, help="Which kind, when NAME is several.")
    @pass_ctx
    def command(c: Ctx, num: int, entity_name: str | None, kind: str | None) -> None:
        u = c.unlock()
        m = corroboration.decide(u, num, entity_name or ask("Name"), decision, kind)
        click.echo(f"report {num}: {m.kind} {m.key!r} {decision}")


_decision_command("entity-confirm", "confirmed", "Confirm an entity the tool found in report NUM.")
_decision_command(
    "entity-reject", "rejected", "Reject an entity the tool found in report NUM (not counted)."
)


@cli.command("entity-add")
@click.argument("num", type=int)
@click.argument("kind", type=_KIND)
@click.argument("text", required=False, callback=warn_argument)
@click.option("--designation", help="A person's rank or designation (SHO, Patwari, …).")
@pass_ctx
def entity_add(c: Ctx, num: int, kind: str, text: str | None, designation: str | None) -> None:
    """Add an entity the tool missed in report NUM (TEXT is asked for if left out)."""
    u = c.unlock()
    m = corroboration.add(u, num, kind, text or ask("As written in the report"), designation)
    click.echo(f"report {num}: {m.kind} {m.key!r} added")


@cli.command("entity-correct")
@click.argument("num", type=int)
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
    click.echo(f"report {num}: {m.kind} now {m.key!r}")


@cli.command("entities-extract")
@click.argument("nums", type=int, nargs=-1)
@pass_ctx
def entities_extract(c: Ctx, nums: tuple[int, ...]) -> None:
    """Run entity extraction again (on NUMS, or every report); reviewers' decisions stay."""
    count = corroboration.reextract(c.unlock(), nums or None)
    click.echo(f"entities extracted from {count} reports")
