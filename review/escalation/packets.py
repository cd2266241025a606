"""Building a packet's content: redacted reports, scrubbed attachments, summary, corroboration.

Everything is assembled in memory from the workspace: the reports' text and
fields and the reviewer's summary pass through one `Redactor`, so a person has
one pseudonym across every report of the packet; attachments are chosen one
by one and rebuilt without metadata (`review.escalation.scrub`); corroboration is
restated with packet labels and counts. Reports are "Report 1", "Report 2" in
the packet: no report number, server id, source designation or source key
goes in, and a last check of the encoded content refuses to go on if one did.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from crypto import PublicKey, open_envelope
from crypto.encoding import b64encode
from crypto.packet import PacketContent, PacketFile, file_hash
from review.analysis.corpus import shared_entities, visible_corpus
from review.analysis.entities import key_for
from review.casework import reports, triage
from review.errors import InvalidValue, ReviewError
from review.escalation.bodies import Body
from review.escalation.redaction import Candidate, Redactor, Term, candidates
from review.escalation.scrub import Scrubbed, Unsupported, as_is, document_text, scrub
from review.escalation.style import marks, warning
from review.present import metadata
from review.workspace import Unlocked
from review.workspace.blobs import open_blob

# What extraction suggests for redaction: details that identify a person.
REDACTABLE: Final = frozenset({"person", "cnic", "reference", "phone", "vehicle"})
# A report can be escalated from these statuses (sending moves it to "escalated").
ESCALATABLE: Final = frozenset({"in-review", "corroborated", "escalated"})
_MAX_SUMMARY: Final = 50_000
# "report 12", "reports 12, 14 and 15", "report no. 12", "report #12".
_REPORT_NUMBERS: Final = re.compile(
    r"\breports?\s*(?:nos?\.?\s*|#\s*)?(\d+(?:\s*(?:,|and|&|or)\s*#?\d+)*)\b", re.IGNORECASE
)

Confirm = Callable[[Candidate], bool]


@dataclass(frozen=True)
class Selection:
    """Which attachments go in: `(report, index)` pairs, or all; and those kept as they are."""

    attach: frozenset[tuple[int, int]] = frozenset()
    all_attachments: bool = False
    as_is: frozenset[tuple[int, int]] = frozenset()

    def wants(self, num: int, index: int) -> bool:
        """Say whether an attachment was chosen."""
        key = (num, index)
        return self.all_attachments or key in self.attach or key in self.as_is


@dataclass
class Built:
    """A packet's content, and what the workspace keeps about how it was made."""

    content: PacketContent
    redactions: list[dict[str, str]]
    files: list[dict[str, Any]]
    declined: int
    warnings: list[str] = field(default_factory=list)


@dataclass
class _Attachment:
    num: int
    label: str
    attachment: reports.Attachment
    data: bytes
    text: str | None


def check_reports(u: Unlocked, nums: Sequence[int]) -> None:
    """Refuse reports that do not exist, repeat, or are not ready to be escalated."""
    if not nums:
        raise InvalidValue("name at least one report")
    if len(set(nums)) != len(nums):
        raise InvalidValue("a report is named twice")
    for num in nums:
        state = triage.load_state(u, num)
        if state.status not in ESCALATABLE:
            raise InvalidValue(
                f"report {num} is {state.status}: it cannot be escalated",
                hint="move it to in-review or corroborated first",
            )


def build(
    u: Unlocked,
    nums: Sequence[int],
    body: Body,
    *,
    packet_id: str,
    summary: str,
    selection: Selection,
    extra_terms: Iterable[Term],
    confirm: Confirm,
    countersignatures: int,
    writers: bool = False,
) -> Built:
    """Assemble the content of a packet for `body`, asking `confirm` about each candidate.

    `extra_terms` is read only after every candidate has been confirmed, so a
    caller can add the terms it was told to redact that matched no candidate.
    Corroboration counts the reports' independent writers only if `writers` asks it to,
    with a warning naming the reports the body will so learn are one writer's.
    """
    summary = summary.strip()
    if not summary or len(summary) > _MAX_SUMMARY:
        raise InvalidValue(f"a packet needs a summary of 1-{_MAX_SUMMARY} characters")
    check_reports(u, nums)
    labels = {num: f"Report {i}" for i, num in enumerate(nums, start=1)}
    _check_numbers_here(u, summary, labels)
    views = [reports.read_report(u, num) for num in nums]
    chosen = _attachments(u, views, labels, selection)
    texts = [summary]
    for view in views:
        for content in view.contents:
            texts += [content.message, *(reports.field_text(v) for v in content.fields.values())]
            texts += list(content.fields)  # a client's keys are the source's words too
    texts += [a.text for a in chosen if a.text is not None]
    terms: list[Term] = []
    declined = 0
    # Sources are known here by designations; none may reach a body, whatever was typed.
    sources = sorted({view.source for view in views})
    found = candidates(texts)
    for candidate in found:
        if candidate.kind not in REDACTABLE or in_designations(candidate, sources):
            continue
        if confirm(candidate):
            terms.append(Term(candidate.kind, _forms(candidate), candidate.key))
        else:
            declined += 1
    terms += list(extra_terms)
    terms += [Term("source", (designation,)) for designation in sources]
    redactor = Redactor(terms)

    files, packet_files, warnings = _files(chosen, redactor, selection)
    if writers:
        warnings += _writers_told(u, nums, labels)
    document: dict[str, Any] = {
        "body": {"name": body.name, "jurisdiction": body.jurisdiction},
        "summary": redactor.apply(summary),
        "reports": [
            {
                "label": labels[view.num],
                "received": _month(view.day),
                "text": "\n\n".join(redactor.apply(c.message) for c in view.contents),
                "fields": redacted_fields(redactor, [c.fields for c in view.contents]),
                "files": [f["name"] for f in files if f["report"] == view.num],
            }
            for view in views
        ],
        "corroboration": _corroboration(u, nums, labels, redactor, found, writers=writers),
        "pseudonyms": [{"pseudonym": name, "kind": kind} for name, kind in redactor.pseudonyms],
        "files": [
            {"name": f["name"], "report": labels[f["report"]], "metadata_removed": f["scrubbed"]}
            for f in files
        ],
    }
    # The writer's own hand in the words as they go (redacted): the reviewer is told where.
    warnings += [
        warning(report["label"], counted)
        for report in document["reports"]
        if (counted := marks(report["text"]))
    ]
    packet_content = PacketContent(
        packet_id=packet_id,
        created=dt.date.today(),
        recipient=body.encryption_key,
        author=u.signing.verify_key,
        countersignatures=countersignatures,
        document=document,
        files=tuple(packet_files),
    )
    ids = [v.submission for v in views] + [a.item for v in views for a in v.attachments]
    _check_nothing_leaks(u, packet_content, redactor, sources, ids)
    redactions = [
        {"form": form, "pseudonym": name} for form, name in redactor.mapping if form not in sources
    ]
    return Built(packet_content, redactions, files, declined, warnings)


def _check_numbers_here(u: Unlocked, summary: str, labels: dict[int, str]) -> None:
    """Refuse a summary naming reports by this workspace's numbers ("reports 12 and 14").

    They follow the order reports came in and are the same in every packet, so bodies'
    leaked packets are matched by them. A number up to the packet's count of reports may be
    its own label ("Report 2"), so only those past it are read as the workspace's.
    """
    said = sorted(
        {
            int(n)
            for run in _REPORT_NUMBERS.finditer(summary)
            for n in re.findall(r"\d+", run[1])
            if int(n) > len(labels)
        }
    )
    here = [
        n
        for n in said
        if u.conn.execute("SELECT 1 FROM reports WHERE num = ?", (n,)).fetchone() is not None
    ]
    if here:
        named = ", ".join(f"report {n}" for n in here)
        as_labelled = "; ".join(f"report {n} is {labels[n]}" for n in here if n in labels)
        raise InvalidValue(
            f"the summary names {named} by the number this workspace gives it:"
            " the packet carries no such number, since a body could match packets by it",
            hint="name the packet's reports as it labels them, Report 1 to "
            f"Report {len(labels)}" + (f" ({as_labelled})" if as_labelled else ""),
        )


def in_designations(candidate: Candidate, designations: Iterable[str]) -> bool:
    """Whether every spelling of `candidate` is made of words of one source designation.

    A designation ("Roast Orbit") is the tool's own name for a source, redacted
    from every packet whatever the reviewer decides: a word of it in the text
    (a summary saying "reported by Roast Orbit") is no detail to ask about.
    """
    words = [set(d.casefold().split()) for d in designations]
    return any(
        all(set(form.casefold().split()) <= mine for form in candidate.forms) for mine in words
    )


def _forms(candidate: Candidate) -> tuple[str, ...]:
    """A candidate's spellings, and a person's name without the rank before it.

    Extraction finds a person by the rank next to the name ("SHO Rana Tariq");
    the same name without its rank later in the text must go too.
    """
    forms = list(candidate.forms)
    if candidate.kind == "person":
        for form in candidate.forms:
            words = form.split()
            for i in range(1, len(words)):
                rest = " ".join(words[i:])
                if key_for("person", rest) == candidate.key:
                    forms.append(rest)
                    break
    return tuple(dict.fromkeys(forms))


def _attachments(
    u: Unlocked, views: list[reports.ReportView], labels: dict[int, str], selection: Selection
) -> list[_Attachment]:
    known = {(v.num, a.index) for v in views for a in v.attachments}
    for num, index in sorted(selection.attach | selection.as_is):
        if (num, index) not in known:
            raise InvalidValue(f"report {num} in this packet has no attachment {index}")
    chosen = []
    for view in views:
        for a in view.attachments:
            if not selection.wants(view.num, a.index):
                continue
            if a.status != "filed":
                raise ReviewError(f"report {view.num} attachment {a.index} is not readable here")
            blob = u.conn.execute("SELECT blob FROM items WHERE id = ?", (a.item,)).fetchone()[0]
            out = io.BytesIO()
            with open_blob(u.workspace, blob) as src:
                open_envelope(src, out, [u.key.identity])
            data = out.getvalue()
            text = None
            if (view.num, a.index) not in selection.as_is:
                try:
                    text = data.decode("utf-8").removeprefix("\ufeff")
                except UnicodeDecodeError:
                    text = None
            chosen.append(_Attachment(view.num, labels[view.num], a, data, text))
    return chosen


def _files(
    chosen: list[_Attachment], redactor: Redactor, selection: Selection
) -> tuple[list[dict[str, Any]], list[PacketFile], list[str]]:
    records: list[dict[str, Any]] = []
    packet_files: list[PacketFile] = []
    warnings: list[str] = []
    counters: dict[int, int] = {}
    for item in chosen:
        a = item.attachment
        where = f"report {item.num} attachment {a.index}"
        if (item.num, a.index) in selection.as_is:
            result: Scrubbed = as_is(item.data, a.name, a.content_type)
            # What the body will read in it (its name is the packet's own, so not that): the
            # kinds only, as the values would stay in the scrollback; `report view` pages them.
            carried = metadata.kinds(metadata.identifying(None, item.data))
            view = f"`raazdar-review report view {item.num} {a.index}` shows them"
            said = f"; it carries {', '.join(carried)} ({view})" if carried else ""
            warnings.append(
                f"{where} goes as it came: its metadata was NOT removed{said}; and it"
                " matches byte for byte any copy the source kept or shared (a phone's"
                " gallery, a chat it was forwarded through), which a leaked packet then"
                " ties to the source"
            )
        else:
            try:
                result = scrub(item.data, redactor.apply)
            except Unsupported as exc:
                raise Unsupported(
                    f"{where}: {exc}",
                    hint=f"leave it out, or include it unchanged with --as-is {item.num}:{a.index}",
                ) from exc
            if leaked := redactor.leaks(document_text(result)):
                raise ReviewError(
                    f"{where} still names {', '.join(leaked)} in its text:"
                    " a document's text is not redacted, so nothing was written",
                    hint="leave it out, or quote what matters in the summary",
                )
        counters[item.num] = counters.get(item.num, 0) + 1
        label_number = item.label.split()[-1]
        name = f"report-{label_number}-{counters[item.num]}.{result.extension}"
        packet_files.append(PacketFile(name, result.content_type, result.data))
        records.append(
            {
                "report": item.num,
                "attachment": a.index,
                "item": a.item,
                "name": name,
                "original_hash": b64encode(file_hash(item.data)),
                "hash": b64encode(file_hash(result.data)),
                "scrubbed": result.scrubbed,
            }
        )
    return records, packet_files, warnings


def _corroboration(
    u: Unlocked,
    nums: Sequence[int],
    labels: dict[int, str],
    redactor: Redactor,
    found: Sequence[Candidate],
    *,
    writers: bool,
) -> list[dict[str, Any]]:
    """The entities these reports share with each other and with others, in packet terms.

    Only entities the packet's own texts name go in, spelt as they spell them:
    the workspace also knows entities from attachments' original file names,
    from attachments left out and from reviewers' additions, and spellings
    from other reports, none of which the reviewer was asked about. How many
    independent writers name each goes in only if `writers`: beside the reports
    listed, a count below theirs tells the body which reports one source wrote.
    """
    spelt = {(c.kind, c.key): c.forms[0] for c in found}
    out = []
    for entry in shared_entities(u, list(nums)):
        named = [int(n) for n in _as_list(entry.get("reports"))]
        sources = entry.get("sources")
        kind, name = str(entry.get("kind")), str(entry.get("name"))
        key = str(entry.get("key") or key_for(kind, name))
        # The name may be spelt as no report spells it: find a confirmed one by its key.
        pseudonym = redactor.pseudonym_for(kind, key)
        if pseudonym is None and (kind, key) not in spelt:
            continue
        stated: dict[str, Any] = {
            "kind": kind,
            "name": pseudonym or redactor.apply(spelt[(kind, key)]),
            "reports": [labels[n] for n in nums if n in named],
            "other_reports": sum(1 for n in named if n not in labels),
            "first": _month(entry.get("first")),
            "last": _month(entry.get("last")),
        }
        if writers:
            stated["sources"] = len(_as_list(sources)) if not isinstance(sources, int) else sources
        out.append(stated)
    return out


def _writers_told(u: Unlocked, nums: Sequence[int], labels: dict[int, str]) -> list[str]:
    """A warning for each set of the packet's reports that its writer counts show as one's."""
    corpus = visible_corpus(u)
    together: dict[int, list[str]] = {}
    for num in nums:
        together.setdefault(corpus.source_group(num), []).append(labels[num])
    return [
        f"{', '.join(named[:-1])} and {named[-1]} are one writer's, and the packet's"
        " corroboration can tell the body so: whoever it leaks the packet to learns that"
        " one source saw all they tell"
        for named in together.values()
        if len(named) > 1
    ]


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, list | tuple | set | frozenset):
        return sorted(value, key=str)
    return []


def _month(value: Any) -> str | None:
    """A day as its month: the server keeps the day each envelope came, and whose it was."""
    if value is None:
        return None
    day = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
    return day.strftime("%Y-%m")


def redacted_fields(redactor: Redactor, contents: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """A report's fields as its packet carries them: keys redacted as values are, none lost.

    A source's client seals any keys it likes, so a key is the source's words as much as a
    value. A key that is not printable ASCII once redacted (a packet's keys are ASCII, and a
    mark of hidden text is not), or that an earlier key already became, goes under its
    number ("field 2"), itself written before its value; a key two contents share, or two
    keys one pseudonym makes alike, goes twice ("Person A (2)").
    """
    out: dict[str, str] = {}
    for number, (key, value) in enumerate(
        ((k, v) for fields in contents for k, v in sorted(fields.items())), start=1
    ):
        if not (shown := reports.field_text(value)):
            continue
        name, text = redactor.apply(key), redactor.apply(shown)
        if not (name.isascii() and name.isprintable()):
            name, text = f"field {number}", f"{name}: {text}"
        taken, n = name, 1
        while taken in out:
            n += 1
            taken = f"{name} ({n})"
        out[taken] = text
    return out


def _check_nothing_leaks(
    u: Unlocked,
    content: PacketContent,
    redactor: Redactor,
    sources: list[str],
    ids: list[str],
) -> None:
    """Refuse a packet whose content holds a redacted term or anything naming a source."""
    text = "\n".join(_strings(content.document))
    text += "\n".join(
        f.data.decode("utf-8", "replace")
        for f in content.files
        if f.content_type.startswith("text/plain")
    )
    if leaked := redactor.leaks(text):
        raise ReviewError(f"redaction failed for {', '.join(leaked)}: nothing was written")
    encoded = content.encode()
    raw_needles = []
    needles = list(ids)
    for designation in sources:
        key_text = u.conn.execute(
            "SELECT public_key FROM sources WHERE designation = ?", (designation,)
        ).fetchone()[0]
        key = PublicKey.from_text(key_text)
        needles += [designation, key_text, b64encode(key.raw), key.raw.hex()]
        raw_needles.append(key.raw)
    if any(needle in encoded for needle in raw_needles):
        raise ReviewError("the packet would name a source: nothing was written")
    for needle in needles:
        if needle.casefold().encode("utf-8") in encoded.lower():
            raise ReviewError("the packet would name a source: nothing was written")


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
