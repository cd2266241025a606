"""How the benchmarks measure: runs, best-of reduction, child processes, round-trip checks."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

MIB: Final = 1024 * 1024
MB: Final = 1_000_000
IO_BLOCK: Final = MIB
REPO_ROOT: Final = Path(__file__).resolve().parents[2]


class BenchError(Exception):
    """Something broke: a program failed or a decryption did not give back the input."""


@dataclass(frozen=True, slots=True)
class Run:
    """One timed run of one step: seconds of work, the process's peak RSS in KiB, CPU seconds.

    CPU seconds (user + system) barely move when other processes share the
    cores, so on a busy machine they compare variants better than wall time.
    """

    seconds: float
    peak_rss_kib: int
    baseline_rss_kib: int | None = None  # Python workers: the peak before the work began
    cpu_seconds: float | None = None


@dataclass(slots=True)
class Variant:
    """The runs of one variant's seal and open steps, reduced to best time and worst peak."""

    key: str  # its name in the JSON line
    name: str  # its name in the table
    seals: list[Run] = field(default_factory=list)
    opens: list[Run] = field(default_factory=list)
    note: str = ""

    def figures(self, size: int) -> dict[str, float | None]:
        """Return best MB/s (wall and CPU) and highest peak RSS in MiB per step (None: not run)."""
        return {
            "seal_mbps": _best_mbps(self.seals, size),
            "open_mbps": _best_mbps(self.opens, size),
            "seal_cpu_mbps": _best_cpu_mbps(self.seals, size),
            "open_cpu_mbps": _best_cpu_mbps(self.opens, size),
            "seal_rss_mib": _peak_mib(self.seals),
            "open_rss_mib": _peak_mib(self.opens),
        }


def _best_mbps(runs: list[Run], size: int) -> float | None:
    return round(size / MB / min(r.seconds for r in runs), 1) if runs else None


def _best_cpu_mbps(runs: list[Run], size: int) -> float | None:
    cpu = [r.cpu_seconds for r in runs if r.cpu_seconds]
    return round(size / MB / min(cpu), 1) if cpu else None


def _peak_mib(runs: list[Run]) -> float | None:
    return round(max(r.peak_rss_kib for r in runs) / 1024, 1) if runs else None


def call(argv: Sequence[str], env: dict[str, str] | None = None) -> str:
    """Run a program to completion and return its stdout, or raise with its stderr."""
    # Every argv here is built from resolved tool paths and our temp paths; no shell.
    done = subprocess.run(  # noqa: S603
        list(argv), cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise BenchError(f"{argv[0]} exited {done.returncode}:\n{done.stderr.strip()}")
    return done.stdout


# Linux starts a process's peak RSS from the pages of the process it was forked
# from (after vfork, from that process's whole peak), so a tool started straight
# from the driver would report at least the driver's RSS. This wrapper, a bare
# interpreter, forks the tool itself and takes its rusage from wait4; its own
# few MiB, copied by fork, are a floor that `tool_floor` measures.
_WRAPPER: Final = """\
import os, sys, time
report, argv = sys.argv[1], sys.argv[2:]
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execv(argv[0], argv)
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
seconds = time.perf_counter() - start
with open(report, "w") as out:
    out.write(f"{seconds} {usage.ru_maxrss} {usage.ru_utime + usage.ru_stime}")
sys.exit(os.waitstatus_to_exitcode(status))
"""


def measure_tool(argv: Sequence[str], report: Path, env: dict[str, str] | None = None) -> Run:
    """Run an external program under the wrapper: its wall time, own peak RSS and CPU time."""
    settle()
    call([sys.executable, "-S", "-I", "-c", _WRAPPER, str(report), *argv], env)
    seconds, kib, cpu = report.read_text("ascii").split()
    report.unlink()
    return Run(float(seconds), int(kib), cpu_seconds=float(cpu))


def tool_floor(tmp: Path) -> float | None:
    """Return the lowest peak RSS in MiB the wrapper can report (that of `true`)."""
    true = shutil.which("true")
    return round(measure_tool([true], tmp / "floor").peak_rss_kib / 1024, 1) if true else None


def settle() -> None:
    """Flush dirty pages first, so an earlier run's writeback does not land in the next."""
    os.sync()


def write_random(path: Path, size: int) -> str:
    """Fill `path` with `size` random bytes and return their BLAKE2b hash."""
    hasher = hashlib.blake2b(digest_size=32)
    with path.open("wb") as out:
        left = size
        while left:
            block = os.urandom(min(IO_BLOCK, left))
            hasher.update(block)
            out.write(block)
            left -= len(block)
    return hasher.hexdigest()


def _hash_file(path: Path) -> str:
    hasher = hashlib.blake2b(digest_size=32)
    with path.open("rb") as src:
        while block := src.read(IO_BLOCK):
            hasher.update(block)
    return hasher.hexdigest()


def check_round_trip(variant: str, output: Path, expected: str) -> None:
    """Fail loudly if a decryption did not give back the input byte for byte, then remove it."""
    if _hash_file(output) != expected:
        raise BenchError(f"{variant}: decrypted output differs from the input")
    output.unlink()


def progress(variant: str, step: str, run: Run, size: int) -> None:
    """Show one run's figures on stderr as it finishes."""
    mbps = size / MB / run.seconds
    rss = run.peak_rss_kib / 1024
    print(f"  {variant:<30} {step:<5} {mbps:8.1f} MB/s  {rss:7.1f} MiB", file=sys.stderr)
