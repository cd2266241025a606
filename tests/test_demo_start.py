"""`deploy/demo.sh` repeats, at every start, the authority fingerprints a client pins."""

from __future__ import annotations

import subprocess
from pathlib import Path

from app.cli.server_info import lines

ROOT = Path(__file__).resolve().parents[1]
DEMO = (ROOT / "deploy" / "demo.sh").read_text("utf-8")


def test_the_fingerprints_are_printed_outside_the_first_start_only_branch() -> None:
    init_block = DEMO.index("init --demo")
    block_end = DEMO.index("\nfi\n", init_block)
    printed = DEMO.index("server-info")
    assert block_end < printed < DEMO.index("exec ")


def test_the_demo_script_turns_server_info_into_pinned_authority_lines() -> None:
    start = DEMO.index('"$root/.venv/bin/raazdar" server-info | ')
    sed = DEMO[start:].split("| ", 1)[1].split("\nif ", 1)[0]
    fp = "MBXU PJFG Q34Z JG7O QNPW 5B7T WSH6 URMD"
    digest = "W4J7 JXYX XL4E Y2VI PMAP I5DO DS7J DBSK R3TF 34DV QPFY FQIN NKKQ"
    info = {
        "instance_id": "0" * 32,
        "server_key": "rz-ed25519-public:x",
        "server_key_fingerprint": "AAAA",
        "keyring_version": 1,
        "authorities": [fp],
        "onions": [],
    }
    out = subprocess.run(  # noqa: S603 - the script's own sed line
        ["/bin/bash", "-c", sed.replace("\\\n", " ")],
        input="\n".join(lines(info, digest)) + "\n",
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout
    assert f"raazdar: pinned authority key {fp}" in out.splitlines()
    # The keyring in force, as a source's pins name it (docs/submit.md, the pins file).
    assert f"raazdar: pins file line: keyring 1 {digest}" in out.splitlines()
    assert out.splitlines()[0].startswith("raazdar: server key fingerprint AAAA")
