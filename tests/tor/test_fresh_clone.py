"""A fresh clone, the README's first command, and the whole cycle from what it printed.

`git clone` of this checkout's HEAD, then the README's first command (`bash
deploy/demo.sh`: bootstrap, demo instance, `serve` on the private Tor network).
From its output alone come the onion address, the SOCKS port, the authority
fingerprints and the server key fingerprint; from the commands it names, the
rest: a report over the onion with `raazdar-submit`, `raazdar export`,
`raazdar-review init --server-info`, import, reply, `export-replies`,
`raazdar import-replies`, and the source reading the reply over the onion.
Every step is bounded in time; whatever the test started is stopped by its PID.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ports import free_port_pair
from tests.test_readme import README, sh_blocks
from tests.tor.test_serve_start import tors_under

pytestmark = pytest.mark.tor

ROOT = Path(__file__).resolve().parents[2]
# The clone's bootstrap (pip from the local wheels and pip's cache) plus the private network.
START_BOUND = 420.0
# Every step after it, together: the test never runs longer than START + CYCLE + 2 x STOP.
CYCLE_BOUND = 240.0
STOP_BOUND = 40.0
REPORT = "Fresh clone: the SHO of a thana took money to let a kiln keep bonded labourers."
REPLY = "Received, thank you. Can you say which month this happened?"


def first_command() -> list[str]:
    """The README's first command, as its first shell block writes it."""
    line = sh_blocks(README)[0].splitlines()[0]
    return shlex.split(line.split("#", 1)[0])


def scrubbed_environment() -> dict[str, str]:
    """This process's environment without anything of Raazdar's or of this venv."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAAZDAR_", "VIRTUAL_ENV"))}
    env["PATH"] = ":".join(p for p in env.get("PATH", "").split(":") if str(ROOT) not in p)
    return env


def wait_for(log: Path, pattern: str, process: subprocess.Popen[bytes], bound: float) -> str:
    """The log's text once `pattern` appears in it; fail if the process ends or time runs out."""
    deadline = time.monotonic() + bound
    while time.monotonic() < deadline:
        text = log.read_text("utf-8", errors="replace")
        if re.search(pattern, text, flags=re.MULTILINE):
            return text
        if process.poll() is not None:
            pytest.fail(
                f"demo.sh exited ({process.returncode}) before {pattern!r}:\n{text[-3000:]}"
            )
        time.sleep(1)
    pytest.fail(f"no {pattern!r} within {bound:.0f} s:\n{log.read_text('utf-8')[-3000:]}")


def one(pattern: str, text: str) -> str:
    found = re.findall(pattern, text, flags=re.MULTILINE)
    assert len(found) == 1, (pattern, found)
    return str(found[0])


@contextlib.contextmanager
def demo(clone: Path, log: Path, port: int) -> Iterator[subprocess.Popen[bytes]]:
    """Run the README's first command in `clone`; at the end, Ctrl-C it and wait (bounded)."""
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 - the README's own command
            [*first_command(), "--port", str(port)],
            cwd=clone,
            env=scrubbed_environment(),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield process
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=STOP_BOUND)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=STOP_BOUND)


def test_a_fresh_clone_runs_the_whole_cycle_from_what_the_commands_print(tmp_path: Path) -> None:
    began = time.monotonic()
    clone = tmp_path / "clone"
    subprocess.run(  # noqa: S603 - fixed arguments
        ["/usr/bin/git", "clone", "--quiet", str(ROOT), str(clone)],
        check=True,
        timeout=STOP_BOUND,
    )
    log = tmp_path / "demo.log"
    bin_dir = clone / ".venv" / "bin"
    instance = clone / "instance"
    env = scrubbed_environment()

    def run(tool: str, *args: str, stdout_only: bool = False) -> str:
        left = cycle_ends - time.monotonic()
        assert left > 0, f"the cycle took longer than {CYCLE_BOUND:.0f} s"
        result = subprocess.run(  # noqa: S603 - the clone's own tools
            [str(bin_dir / tool), *args],
            cwd=tmp_path,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=left,
            check=False,
        )
        assert result.returncode == 0, f"{tool} {args}: {result.stdout}{result.stderr}"
        return result.stdout if stdout_only else result.stdout + result.stderr

    with demo(clone, log, free_port_pair()) as process:
        text = wait_for(log, r"^raazdar: source onion service: ", process, START_BOUND)
        text = wait_for(log, r"SOCKS proxy 127\.0\.0\.1:\d+", process, 30)
        started = time.monotonic() - began
        cycle_ends = time.monotonic() + CYCLE_BOUND
        onion = one(r"^raazdar: source onion service: (http://[a-z2-7]{56}\.onion)/$", text)
        socks = one(r"reach the onion through its SOCKS proxy (127\.0\.0\.1:\d+),", text)
        # `init` prints them at the first start, and demo.sh again at every start.
        printed = re.findall(r"^raazdar: pinned authority key ([A-Z2-7 ]{39})$", text, re.M)
        authorities = list(dict.fromkeys(printed))
        # With them, the keyring the pins name (docs/submit.md, the pins file).
        printed = re.findall(r"^raazdar: pins file line: (keyring \d+ [A-Z2-7 ]+)$", text, re.M)
        keyring = list(dict.fromkeys(printed))
        assert len(keyring) == 1, keyring
        server_fp = one(r"^raazdar: server key fingerprint ([A-Z2-7 ]{39}) \(`raazdar ", text)
        assert len(authorities) >= 1
        assert "<address>" not in text
        # The line names the command that writes the workstation's file.
        writes_info = one(
            r"\(`(raazdar server-info --out FILE)` for the review workstation\)", text
        )

        codename = tmp_path / "codename"
        codename.write_text(run("raazdar-submit", "new", stdout_only=True).strip() + "\n")
        message = tmp_path / "report.txt"
        message.write_text(REPORT)
        pins = tmp_path / "pins.txt"  # as docs/submit.md has the organisation hand it over
        pins.write_text(
            "".join([f"instance {onion}\n", *(f"authority {a}\n" for a in authorities), *keyring])
            + "\n"
        )
        client = ["--state", str(tmp_path / "client"), "--socks", socks, "--pins-file", str(pins)]
        sent = run("raazdar-submit", *client, "send", "--codename-file", str(codename),
                   "--message-file", str(message))  # fmt: skip
        assert "Sent 1 report" in sent

        info = tmp_path / "server-info.json"
        run("raazdar", "--instance", str(instance),
            *writes_info.split()[1:-1], str(info))  # fmt: skip
        bundle = tmp_path / "export.rzb"
        run("raazdar", "--instance", str(instance), "export", "--out", str(bundle))
        reviewer = one(r"^reviewer .*\((\S+)\)$", run("raazdar", "--instance", str(instance),
                                                      "keyring", "show"))  # fmt: skip

        passphrase = tmp_path / "passphrase"
        passphrase.write_text("demo\n")
        review = ["--workspace", str(tmp_path / "workspace"), "--passphrase-file", str(passphrase)]
        pinned = run("raazdar-review", *review, "init", "--server-info", str(info),
                     "--key-file", str(instance / "demo-keys" / "reviewer.key"),
                     "--reviewer", reviewer)  # fmt: skip
        assert f"server key fingerprint {server_fp}:" in pinned
        for fp in authorities:
            assert f"pinning authority {fp}:" in pinned
        # Reports are sealed to the demo reviewer's weekly subkeys; demo.sh names the command
        # that gives the workspace their secrets.
        adopt = one(
            r"`raazdar-review (keys subkeys adopt \S+ \S+)` after `raazdar-review init`", text
        )
        assert "adopted:" in run("raazdar-review", *review, *adopt.split())
        assert "1 new report(s)" in run("raazdar-review", *review, "import", str(bundle))
        number = one(r"^│ (\d+) +│ ", run("raazdar-review", *review, "list"))
        assert REPORT in run("raazdar-review", *review, "show", number)
        reply_file = tmp_path / "reply.txt"
        reply_file.write_text(REPLY)
        run("raazdar-review", *review, "reply", number, "--file", str(reply_file))
        replies = tmp_path / "replies.rzr"
        run("raazdar-review", *review, "export-replies", "--out", str(replies))
        applied = run("raazdar", "--instance", str(instance), "import-replies", str(replies))
        assert "1 reply(ies) posted" in applied

        read = run("raazdar-submit", *client, "replies", "--codename-file", str(codename))
        assert REPLY in read
    stopped = log.read_text("utf-8")
    assert process.returncode == 0, stopped[-2000:]
    assert stopped.rstrip().endswith("raazdar: stopped")
    assert tors_under(clone) == []
    print(f"fresh clone: up after {started:.0f} s, whole cycle {time.monotonic() - began:.0f} s")
