"""The children that rebuild a packet's PDFs and pictures, or read them for `view`: quick to
start, and shut in.

The first attack is on the reviewer's time: the PDF child (`review.casework.pdfwork`)
lived in the escalation package, so each one imported `review.escalation` and all it
uses (drafts, redaction, the analysis): 1.3 s of every PDF's rebuilding and text check,
twice per PDF attachment escalated. The second is on what leaves: a child's answer is
the attachment a body receives, so a parser taken over by a crafted PDF or picture could
read any file of the reviewer's (a test's secret here) into it, or open a socket. The
view's PDF reader (`pdfchild`) shows its answer on the reviewer's screen, and would put
that file there: it is shut in as the others are.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from review.casework import imagechild, pdfchild, pdfs, pdfview
from review.present import metachild

SECRET = "the reviewer's own file, never to reach a packet"


def _run(script: str) -> subprocess.CompletedProcess[str]:
    """`script` in a fresh interpreter started as the children are (`-I -B`, our tree)."""
    boot = f"import sys; sys.path.insert(0, {pdfview._TREE!r})\n"
    return subprocess.run(  # noqa: S603 - this interpreter, our own script
        [sys.executable, "-I", "-B", "-c", boot + script],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_the_pdf_child_imports_no_escalation_or_analysis() -> None:
    done = _run(
        f"import importlib; importlib.import_module({pdfs._CHILD!r})\n"
        "from review.casework import pdfs\n"
        "print(' '.join(sys.modules))"
    )
    assert done.returncode == 0, done.stderr
    loaded = done.stdout.split()
    heavy = [
        m for m in loaded if m.split(".")[:2] in (["review", "escalation"], ["review", "analysis"])
    ]
    assert heavy == [], f"the PDF child imports {len(heavy)} modules it never runs: {heavy[:5]}"


CHILDREN = [pdfs._CHILD, imagechild.__name__, pdfchild.__name__, metachild.__name__]


def _taken_over(child: str, attempts: list[str]) -> list[str]:
    """What a parser taken over by a crafted attachment would do, once the child is ready
    to read it: the child's own preparation, then each of the attacker's `attempts` (an
    expression); the lines of those not refused."""
    done = _run(
        f"import importlib, os, socket; child = importlib.import_module({child!r})\n"
        "child.prepare({'memory': 1 << 30, 'cpu': 10})\n"
        f"for attempt in ({''.join(f'lambda: {a},' for a in attempts)}):\n"
        "    try:\n"
        "        print('DONE', attempt())\n"
        "    except OSError as exc:\n"
        "        print('REFUSED', exc.errno)\n"
    )
    assert done.returncode == 0, done.stderr
    return [line for line in done.stdout.splitlines() if not line.startswith("REFUSED")]


@pytest.mark.parametrize("child", CHILDREN)
def test_a_child_taken_over_opens_no_file_or_socket(child: str, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET)
    got = _taken_over(
        child,
        [
            f"open({str(secret)!r}).read()",
            f"open({str(tmp_path / 'out.txt')!r}, 'w')",
            "socket.socket(socket.AF_INET, socket.SOCK_STREAM)",
            "socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)",
        ],
    )
    assert got == [], f"{len(got)} of 4 opened: {got}"
    assert not (tmp_path / "out.txt").exists()


@pytest.mark.skipif(
    pdfchild.landlock_version() < 3, reason="the kernel has no Landlock that refuses truncation"
)
@pytest.mark.parametrize("child", CHILDREN)
def test_a_child_taken_over_removes_empties_or_moves_no_file(child: str, tmp_path: Path) -> None:
    # The attack: no descriptor is needed to unlink, truncate or rename by path, so a
    # child shut out of new files could still destroy the workspace or the reviewer's
    # keys (an accused official's crafted attachment wiping the record of him).
    victims = {name: tmp_path / name for name in ("removed", "emptied", "moved")}
    for path in victims.values():
        path.write_text(SECRET)
    did = _taken_over(
        child,
        [
            f"os.unlink({str(victims['removed'])!r})",
            f"os.truncate({str(victims['emptied'])!r}, 0)",
            f"os.rename({str(victims['moved'])!r}, {str(tmp_path / 'elsewhere')!r})",
            f"os.mkdir({str(tmp_path / 'made')!r})",
        ],
    )
    assert did == [], f"{len(did)} of 4 done: {did}"
    assert all(path.read_text() == SECRET for path in victims.values())
