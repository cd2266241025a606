"""The source's answers reach triage: one taxonomy on both sides, marked as the source's."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.taxonomy import SEED
from review import workspace as ws
from review.casework import reports, taxonomy, triage
from review.intake.importer import import_bundle
from review.workspace.state import State
from tests.review.support import Server, review

PHOTO = b"\xff\xd8\xff\xe0 a photo of the register"


def test_the_review_tools_copy_of_the_taxonomy_is_the_servers() -> None:
    for group, found in taxonomy.terms().items():
        assert found == SEED[group], f"review/data/taxonomy.txt's {group} differs from the server's"
    assert set(taxonomy.terms()) == {"agency", "province"}


def _listed(workspace: Path, *args: str) -> list[int]:
    result = review(workspace, "list", *args)
    assert result.exit_code == 0, result.output
    return [int(n) for n in re.findall(r"^[│|]\s*(\d+)\s*[│|]", result.output, re.MULTILINE)]


def test_a_report_is_found_by_the_agency_and_district_its_source_chose(
    server: Server, workspace: Path, unlocked: ws.Unlocked, tmp_path: Path
) -> None:
    # Attachments come in the bundle in no set order: the form's answers must count wherever
    # the report's own item falls among them.
    photos = [("files", f"register-{i}.jpg", PHOTO, "image/jpeg") for i in range(6)]
    server.submit(
        "The SHO took money to free the agent.",
        photos,
        {"agency": "police-sindh", "district": "کراچی"},
    )
    server.submit("A kiln in Kasur holds families.", None, {"district": "Kasur"})
    server.submit("Nothing chosen on the form.")
    import_bundle(unlocked, server.export(tmp_path / "b.rzb"))
    # Reports are numbered in the bundle's order, which is no order: find them by their text.
    nums = {reports.read_report(unlocked, n).contents[0].message[:5]: n for n in (1, 2, 3)}
    sho, kiln = nums["The S"], nums["A kil"]

    for agency in ("Sindh Police", "sindh police", "سندھ پولیس", "police-sindh"):
        assert _listed(workspace, "--agency", agency) == [sho], agency
    for district in ("Karachi", "کراچی"):
        assert _listed(workspace, "--district", district) == [sho], district
    assert _listed(workspace, "--district", "قصور") == [kiln]
    assert _listed(workspace, "--agency", "Punjab Police") == []

    shown = review(workspace, "show", str(sho)).output
    assert "agency: Sindh Police (source)" in shown
    assert "district: کراچی (source)" in shown


def test_a_reviewer_setting_a_field_replaces_the_sources_and_keeps_free_text(
    server: Server, unlocked: ws.Unlocked, tmp_path: Path
) -> None:
    server.submit("The clerk sold the records.", None, {"agency": "nadra", "district": "Lahore"})
    import_bundle(unlocked, server.export(tmp_path / "b.rzb"))
    state = triage.load_state(unlocked, 1)
    assert (state.shown("agency"), state.shown("district")) == ("NADRA (source)", "Lahore (source)")

    state = triage.set_field(unlocked, 1, "agency", "ایف آئی اے")
    assert state.shown("agency") == "ایف آئی اے"  # free text: the taxonomy spells FIA otherwise
    state = triage.set_field(unlocked, 1, "agency", "وفاقی تحقیقاتی ادارہ (ایف آئی اے)")
    assert state.shown("agency") == "Federal Investigation Agency (FIA)"
    assert state.shown("district") == "Lahore (source)"
    state = triage.set_field(unlocked, 1, "district", "Railway Colony, Lahore")
    assert (state.district, state.from_source) == ("Railway Colony, Lahore", ())


def test_a_state_sealed_before_the_source_marking_still_opens() -> None:
    old = b'{"status": "new", "agency": "FIA", "tags": [], "links": []}'
    assert State.decode(old).from_source == ()


@pytest.mark.parametrize(
    "answer", [{"code": "police-sindh", "label": "Sindh Police"}, "Sindh Police"]
)
def test_an_answer_by_code_or_by_label_is_the_same_term(answer: object) -> None:
    state = triage.from_source(State(), {"agency": answer})
    assert state.agency == "Sindh Police"


def test_a_term_the_review_tool_does_not_know_keeps_the_servers_label() -> None:
    state = triage.from_source(State(), {"agency": {"code": "railways", "label": "Railway Police"}})
    assert (state.agency, state.from_source) == ("Railway Police", ("agency",))
