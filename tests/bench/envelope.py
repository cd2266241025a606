"""Benchmark envelope sealing and opening against raw secretstream, gpg, age and Sequoia.

Run from the repository root: `python -m tests.bench.envelope [--size MiB] [--repeat N]`.
Every variant runs in a fresh child process, so one variant's peak RSS never
mixes with another's. A last worker times a 4 KiB report sealed to three
recipients against Sequoia's encryption of the same bytes to three certificates.
Progress goes to stderr; the table, the targets and a final line of JSON go to
stdout. Missing a target is a finding, not a failure:
the exit code is 0 unless something breaks or a decryption does not round-trip.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import resource
import statistics
import sys
import tempfile
import time
import timeit
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Final

# Unlike everything else outside crypto/, this module imports nacl: raw
# secretstream is the speed limit the envelope is measured against.
import nacl.bindings as sodium
from nacl._sodium import ffi, lib

from crypto import (
    KdfParams,
    Metadata,
    PrivateKey,
    derive_source_keys,
    generate_codename,
    open_envelope,
    open_to_path,
    seal,
    seal_bytes,
)
from crypto import constants as C
from crypto.envelope.secretstream import Pusher
from tests.bench.measure import (
    MIB,
    BenchError,
    Run,
    Variant,
    call,
    check_round_trip,
    progress,
    settle,
    tool_floor,
    write_random,
)
from tests.bench.tools import bench_age, bench_gpg, sequoia_key, sequoia_worker

RATIO_TARGET: Final = 0.9
AGE_TARGET: Final = 1.0
SMALL_BYTES: Final = 4096
SMALL_RECIPIENTS: Final = 3
SMALL_NUMBER: Final = 200
SMALL_REPEAT: Final = 7
CHUNK_NUMBER: Final = 500
CHUNK_REPEAT: Final = 5
# The table's columns: heading, and the figure each shows.
_COLUMNS: Final = {
    "seal MB/s": "seal_mbps",
    "open MB/s": "open_mbps",
    "seal CPU": "seal_cpu_mbps",
    "open CPU": "open_cpu_mbps",
    "seal RSS": "seal_rss_mib",
    "open RSS": "open_rss_mib",
}
RSS_TARGET_MIB: Final = 64
KDF_TARGET_S: Final = (0.2, 1.0)
KDF_RUNS: Final = 5
WORKERS: Final = (
    "raw-seal",
    "raw-open",
    "envelope-seal",
    "envelope-open",
    "envelope-open-to-path",
    "sequoia-seal",
    "sequoia-open",
    "kdf",
    "small",
    "chunk",
)
VARIANT_KEYS: Final = ("raw", "envelope", "envelope_open_to_path", "gpg", "age", "sequoia")

_PUSH: Final = sodium.crypto_secretstream_xchacha20poly1305_push
_PULL: Final = sodium.crypto_secretstream_xchacha20poly1305_pull
_TAG_MESSAGE: Final = sodium.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE
_TAG_FINAL: Final = sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL


def _maxrss_kib() -> int:
    """Return this process's peak RSS so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _cpu_seconds() -> float:
    """Return this process's user + system CPU time so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# --- Workers: each runs in its own interpreter and prints one JSON line. ---


def _raw_seal(src: Path, dst: Path, key: bytes) -> None:
    """Encrypt with bare secretstream, chunked like the envelope, the last chunk tagged final."""
    state = sodium.crypto_secretstream_xchacha20poly1305_state()
    with src.open("rb") as fin, dst.open("wb") as fout:
        fout.write(sodium.crypto_secretstream_xchacha20poly1305_init_push(state, key))
        block = fin.read(C.CHUNK_BYTES)
        while True:
            following = fin.read(C.CHUNK_BYTES)
            tag = _TAG_MESSAGE if following else _TAG_FINAL
            fout.write(_PUSH(state, block, None, tag))
            if not following:
                return
            block = following


def _raw_open(src: Path, dst: Path, key: bytes) -> None:
    """Decrypt what `_raw_seal` wrote, insisting on the final tag."""
    state = sodium.crypto_secretstream_xchacha20poly1305_state()
    with src.open("rb") as fin, dst.open("wb") as fout:
        header = fin.read(C.STREAM_HEADER_BYTES)
        sodium.crypto_secretstream_xchacha20poly1305_init_pull(state, header, key)
        while block := fin.read(C.CHUNK_BYTES + C.STREAM_ABYTES):
            chunk, tag = _PULL(state, block, None)
            fout.write(chunk)
            if tag == _TAG_FINAL:
                return
    raise BenchError("raw stream ended without its final chunk")


def _envelope_seal(src: Path, dst: Path, key: PrivateKey) -> None:
    with src.open("rb") as fin, dst.open("wb") as fout:
        seal(fin, fout, [key.public_key], Metadata(kind="file", filename="bench.bin"))


def _envelope_open(src: Path, dst: Path, key: PrivateKey) -> None:
    with src.open("rb") as fin, dst.open("wb") as fout:
        open_envelope(fin, fout, [key])


def _envelope_open_to_path(src: Path, dst: Path, key: PrivateKey) -> None:
    with src.open("rb") as fin:
        open_to_path(fin, dst, [key])


def _kdf_runs() -> list[float]:
    """Time Argon2id (INTERACTIVE) over fresh codenames and salts, as a source login does."""
    runs = []
    for _ in range(KDF_RUNS):
        codename, salt = generate_codename(), os.urandom(C.INSTANCE_SALT_BYTES)
        start = time.perf_counter()
        derive_source_keys(codename, salt, KdfParams.INTERACTIVE)
        runs.append(time.perf_counter() - start)
    return runs


def _small_report() -> dict[str, Any]:
    """Time a 4 KiB report sealed to 3 recipients, and Sequoia's encryption of it to 3 certs.

    Each repeat times both, ours first on even repeats, so drift hits both alike;
    the best mean per call of each is kept, in milliseconds.
    """
    data = os.urandom(SMALL_BYTES)
    keys = [PrivateKey.generate().public_key for _ in range(SMALL_RECIPIENTS)]
    meta = Metadata("report", "application/json")
    jobs: dict[str, Callable[[], object]] = {"ours": lambda: seal_bytes(data, keys, meta)}
    try:
        import pysequoia  # optional: the bench runs without it
    except ImportError:
        pass
    else:
        suite = pysequoia.CipherSuite.Cv25519
        certs = [
            pysequoia.Tsk.generate(
                f"r{n} <r{n}@example.invalid>", cipher_suite=suite
            ).extract_certificate()
            for n in range(SMALL_RECIPIENTS)
        ]
        jobs["sequoia"] = lambda: pysequoia.encrypt(data, certs, armor=False)
    best = _best_of(jobs, SMALL_REPEAT, SMALL_NUMBER)
    return {f"{name}_ms": round(seconds * 1e3, 4) for name, seconds in best.items()}


def _best_of(
    jobs: dict[str, Callable[[], object]],
    repeat: int,
    number: int,
    timer: Callable[[], float] = time.perf_counter,
) -> dict[str, float]:
    """Each job's best mean seconds per call; the order alternates, so drift hits all alike."""
    best = {name: float("inf") for name in jobs}
    for i in range(repeat):
        for name in list(jobs) if i % 2 == 0 else list(jobs)[::-1]:
            seconds = timeit.timeit(jobs[name], timer=timer, number=number) / number
            best[name] = min(best[name], seconds)
    return best


def _chunk_push() -> dict[str, float]:
    """Time one full chunk pushed by libsodium (through cffi, into a reused buffer, as the
    envelope did) and by the envelope's `Pusher` (OpenSSL): microseconds of CPU, best of runs."""
    chunk = os.urandom(C.CHUNK_BYTES)
    state = sodium.crypto_secretstream_xchacha20poly1305_state()
    sodium.crypto_secretstream_xchacha20poly1305_init_push(state, bytes(32))
    out = ffi.from_buffer(bytearray(C.CHUNK_BYTES + C.STREAM_ABYTES))
    pusher = Pusher(bytes(32))

    def libsodium() -> None:
        push = lib.crypto_secretstream_xchacha20poly1305_push
        push(state.statebuf, out, ffi.NULL, ffi.from_buffer(chunk), len(chunk), ffi.NULL, 0, 0)

    jobs: dict[str, Callable[[], object]] = {
        "libsodium": libsodium,
        "pusher": lambda: pusher.push(chunk, _TAG_MESSAGE),
    }
    best = _best_of(jobs, CHUNK_REPEAT, CHUNK_NUMBER, time.process_time)
    return {f"{name}_us": round(seconds * 1e6, 2) for name, seconds in best.items()}


def _worker(name: str, src: Path, dst: Path, key_file: Path) -> dict[str, Any]:
    """Do one variant's work once; time only the work, not start-up or key loading."""
    work: Callable[[], None]
    if name.startswith("sequoia-"):
        work = functools.partial(sequoia_worker, name.removeprefix("sequoia-"), src, dst, key_file)
    elif name.startswith("raw-"):
        raw_step = _raw_seal if name == "raw-seal" else _raw_open
        work = functools.partial(raw_step, src, dst, key_file.read_bytes())
    else:
        step = {
            "envelope-seal": _envelope_seal,
            "envelope-open": _envelope_open,
            "envelope-open-to-path": _envelope_open_to_path,
        }[name]
        work = functools.partial(step, src, dst, PrivateKey.from_text(key_file.read_text("ascii")))
    baseline = _maxrss_kib()
    cpu = _cpu_seconds()
    start = time.perf_counter()
    work()
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "cpu_seconds": _cpu_seconds() - cpu,
        "peak_rss_kib": _maxrss_kib(),
        "baseline_rss_kib": baseline,
    }


# --- The driver: prepares the input and keys, runs workers and tools, reports. ---


def _run_worker(name: str, *paths: Path) -> dict[str, Any]:
    """Run one worker in a fresh interpreter and return the JSON line it printed."""
    argv = [sys.executable, "-m", "tests.bench.envelope", "--worker", name]
    for option, path in zip(("--input", "--output", "--key"), paths, strict=False):
        argv += [option, str(path)]
    result: dict[str, Any] = json.loads(call(argv).strip().splitlines()[-1])
    return result


def _python_run(name: str, src: Path, dst: Path, key: Path) -> Run:
    settle()
    result = _run_worker(name, src, dst, key)
    return Run(
        result["seconds"], result["peak_rss_kib"], result["baseline_rss_kib"], result["cpu_seconds"]
    )


def _bench_python(tmp: Path, plain: Path, digest: str, size: int, repeat: int) -> list[Variant]:
    """Run raw and envelope alternately, in ABBA order, so drift hits both alike."""
    raw = Variant("raw", "raw secretstream (limit)")
    env = Variant("envelope", "envelope (seal/open_envelope)")
    env_path = Variant("envelope_open_to_path", "envelope open_to_path (fsync)")
    raw_key, env_key = tmp / "raw.key", tmp / "envelope.key"
    raw_key.write_bytes(os.urandom(32))
    env_key.write_text(PrivateKey.generate().to_text(), "ascii")
    sealed, opened = tmp / "sealed", tmp / "opened"

    def timed(variant: Variant, runs: list[Run], step: str, worker: str, key: Path) -> None:
        src, dst = (plain, sealed) if step == "seal" else (sealed, opened)
        runs.append(_python_run(worker, src, dst, key))
        progress(variant.name, step, runs[-1], size)
        if step == "open":
            check_round_trip(variant.name, opened, digest)

    def raw_pass() -> None:
        timed(raw, raw.seals, "seal", "raw-seal", raw_key)
        timed(raw, raw.opens, "open", "raw-open", raw_key)
        sealed.unlink()

    def env_pass() -> None:
        timed(env, env.seals, "seal", "envelope-seal", env_key)
        timed(env, env.opens, "open", "envelope-open", env_key)
        timed(env_path, env_path.opens, "open", "envelope-open-to-path", env_key)
        sealed.unlink()

    for i in range(repeat):
        print(f"run {i + 1}/{repeat}", file=sys.stderr)
        for one_pass in (raw_pass, env_pass) if i % 2 == 0 else (env_pass, raw_pass):
            one_pass()
    return [raw, env, env_path]


def _bench_sequoia(tmp: Path, plain: Path, digest: str, size: int, repeat: int) -> Variant | None:
    """Encrypt to a fresh Curve25519 certificate with Sequoia, as SecureDrop now does."""
    key = sequoia_key()
    if key is None:
        print("sequoia: pysequoia not installed; skipping it", file=sys.stderr)
        return None
    variant = Variant("sequoia", "Sequoia (pysequoia) cv25519")
    key_file, sealed, opened = tmp / "sequoia.key", tmp / "sealed.pgp", tmp / "opened"
    key_file.write_bytes(key)
    for _ in range(repeat):
        variant.seals.append(_python_run("sequoia-seal", plain, sealed, key_file))
        progress(variant.name, "seal", variant.seals[-1], size)
        variant.opens.append(_python_run("sequoia-open", sealed, opened, key_file))
        progress(variant.name, "open", variant.opens[-1], size)
        check_round_trip(variant.name, opened, digest)
        sealed.unlink()
    return variant


def _cell(value: float | None) -> str:
    return f"{value:>10.1f}" if value is not None else f"{'-':>10}"


def _pair(ratios: dict[str, float | None], base: str, step: str) -> str:
    wall, cpu = ratios[f"{base}_{step}_mbps"], ratios[f"{base}_{step}_cpu_mbps"]
    if wall is None:
        return "-"
    return f"{wall:.3f}x" + (f" ({cpu:.3f}x)" if cpu is not None else "")


def _num(value: float | None) -> float:
    if value is None:
        raise BenchError("a figure that every run produces is missing")
    return value


def _ratio(figures: dict[str, dict[str, float | None]], base: str, figure: str) -> float | None:
    """The envelope's `figure` over variant `base`'s, in the same run (None if not measured)."""
    env, other = figures["envelope"].get(figure), figures.get(base, {}).get(figure)
    return round(env / other, 3) if env is not None and other else None


def _report(
    size: int,
    repeat: int,
    variants: list[Variant],
    kdf: dict[str, Any],
    floor: float | None,
    small: dict[str, Any],
    chunk: dict[str, float],
) -> dict[str, Any]:
    """Print the table and the targets, and return every figure for the JSON line."""
    figures = {v.key: v.figures(size) for v in variants}
    baseline = max(r.baseline_rss_kib or 0 for v in variants for r in v.seals + v.opens)
    print(f"\nEnvelope benchmark: {size // MIB} MiB of random plaintext, best of {repeat}")
    print("MB/s = 10^6 plaintext bytes per second; RSS = the child process's peak, in MiB\n")
    print("CPU = MB per CPU second (user + system): steadier than wall time on a shared machine\n")
    head = f"{'variant':<32}" + "".join(f"{h:>10}" for h in _COLUMNS)
    print(head + "\n" + "-" * len(head))
    for v in variants:
        print(f"{v.name:<32}" + "".join(_cell(figures[v.key][c]) for c in _COLUMNS.values()))
    for key in VARIANT_KEYS:
        if key not in figures:
            print(f"{key}: not installed; not measured")
    print(f"Python rows include the interpreter and PyNaCl, {baseline / 1024:.1f} MiB before work.")
    if floor is not None:
        print(f"gpg and age run under a fork wrapper that cannot show under {floor} MiB.")
    if "sequoia" in figures:
        print("Sequoia runs in-process in a Python worker (pysequoia), like the rows above it.")
    if "gpg" in figures:
        print("gpg's decryption RSS leaves out gpg-agent, which only unwraps the session key.")
    for v in variants:
        if v.note:
            print(f"{v.name}: {v.note}")

    env, env_path = figures["envelope"], figures["envelope_open_to_path"]
    ratio_seal, ratio_open = (
        _num(_ratio(figures, "raw", "seal_mbps")),
        _num(_ratio(figures, "raw", "open_mbps")),
    )
    ratios = {
        f"{base}_{figure}": _ratio(figures, base, figure)
        for base in ("raw", "age", "sequoia")
        for figure in ("seal_mbps", "open_mbps", "seal_cpu_mbps", "open_cpu_mbps")
    }
    env_rss = max(
        _num(env["seal_rss_mib"]), _num(env["open_rss_mib"]), _num(env_path["open_rss_mib"])
    )
    kdf_median = round(statistics.median(kdf["runs_s"]), 3)
    low, high = KDF_TARGET_S
    params = KdfParams.INTERACTIVE
    vs_age = {"seal": ratios["age_seal_mbps"], "open": ratios["age_open_mbps"]}
    ours_ms, sequoia_ms = small["ours_ms"], small.get("sequoia_ms")
    targets: dict[str, bool | None] = {
        "seal_ratio": ratio_seal >= RATIO_TARGET,
        "open_ratio": ratio_open >= RATIO_TARGET,
        "seal_vs_age": None if vs_age["seal"] is None else vs_age["seal"] >= AGE_TARGET,
        "open_vs_age": None if vs_age["open"] is None else vs_age["open"] >= AGE_TARGET,
        "small_vs_sequoia": None if sequoia_ms is None else ours_ms <= sequoia_ms,
        "envelope_rss": env_rss < RSS_TARGET_MIB,
        "argon2id": low <= kdf_median <= high,
    }
    small_label = f"{SMALL_BYTES // 1024} KiB to {SMALL_RECIPIENTS}: ours <= Sequoia"
    small_value = f"{ours_ms:.3f}/{sequoia_ms:.3f} ms" if sequoia_ms else f"{ours_ms:.3f} ms"
    rows = [
        (f"envelope seal >= {RATIO_TARGET}x raw", _pair(ratios, "raw", "seal"), "seal_ratio"),
        (f"envelope open >= {RATIO_TARGET}x raw", _pair(ratios, "raw", "open"), "open_ratio"),
        (f"envelope seal >= {AGE_TARGET}x age", _pair(ratios, "age", "seal"), "seal_vs_age"),
        (f"envelope open >= {AGE_TARGET}x age", _pair(ratios, "age", "open"), "open_vs_age"),
        (small_label, small_value, "small_vs_sequoia"),
        (f"envelope peak RSS < {RSS_TARGET_MIB} MiB", f"{env_rss:.1f} MiB", "envelope_rss"),
        (f"Argon2id codename {low}-{high} s", f"{kdf_median:.3f} s", "argon2id"),
    ]
    print("\nTargets (wall; CPU in brackets, for the record)")
    for label, value, key in rows:
        verdict = {True: "met", False: "MISSED", None: "not measured"}[targets[key]]
        print(f"  {label:<36}{value:>17}   {verdict}")
    print(
        f"  (Argon2id: median of {KDF_RUNS}, INTERACTIVE = ops {params.ops}, "
        f"{params.mem // MIB} MiB)"
    )
    if ratios["sequoia_seal_mbps"] is not None:
        print("\nFor the record, the envelope against Sequoia (wall; CPU in brackets)")
        for step in ("seal", "open"):
            print(f"  envelope {step} / Sequoia {step:<24}{_pair(ratios, 'sequoia', step):>17}")
    ours_us, libsodium_us = chunk["pusher_us"], chunk["libsodium_us"]
    print(
        f"\nOne {C.CHUNK_BYTES // 1024} KiB chunk pushed (CPU, best of {CHUNK_REPEAT}): "
        f"libsodium {libsodium_us:.2f} us, the envelope's pusher {ours_us:.2f} us, "
        f"{libsodium_us / ours_us:.2f}x"
    )
    return {
        "size_mib": size // MIB,
        "repeat": repeat,
        # A tool that is not installed stays in the line, as null.
        **{key: figures.get(key) for key in VARIANT_KEYS},
        "ratio_seal": ratio_seal,
        "ratio_open": ratio_open,
        "ratio_seal_age": vs_age["seal"],
        "ratio_open_age": vs_age["open"],
        "ratios": ratios,
        "small_report_3_recipients": small,
        "chunk_push": chunk,
        "envelope_peak_rss_mib": env_rss,
        "python_baseline_rss_mib": round(baseline / 1024, 1),
        "tool_rss_floor_mib": floor,
        "argon2id_interactive_median_s": kdf_median,
        "argon2id_interactive_runs_s": [round(s, 3) for s in kdf["runs_s"]],
        "argon2id_peak_rss_mib": round(kdf["peak_rss_kib"] / 1024, 1),
        "targets_met": targets,
    }


def bench(size: int, repeat: int) -> dict[str, Any]:
    """Run every variant on `size` random bytes, print the report, return the figures."""
    with tempfile.TemporaryDirectory(prefix="raazdar-bench-") as name:
        tmp = Path(name)
        plain = tmp / "plain.bin"
        print(f"writing {size // MIB} MiB of random bytes to {plain}", file=sys.stderr)
        digest = write_random(plain, size)
        ours = _bench_python(tmp, plain, digest, size, repeat)
        print("Argon2id (INTERACTIVE) codename derivation", file=sys.stderr)
        kdf = _run_worker("kdf")
        print("a 4 KiB report to 3 recipients, against Sequoia", file=sys.stderr)
        small = _run_worker("small")
        print("one full chunk pushed by libsodium and by the envelope's pusher", file=sys.stderr)
        chunk = _run_worker("chunk")
        measured = (tool(tmp, plain, digest, size, repeat) for tool in (bench_gpg, bench_age))
        tools = [v for v in measured if v is not None]
        floor = tool_floor(tmp) if tools else None
        sequoia = _bench_sequoia(tmp, plain, digest, size, repeat)
        tools += [sequoia] if sequoia is not None else []
        return _report(size, repeat, [*ours, *tools], kdf, floor, small, chunk)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tests.bench.envelope",
        description="Measure envelope seal/open speed and memory against raw secretstream, "
        "gpg, age and Sequoia, a small report's cost against Sequoia's, and Argon2id "
        "codename derivation time.",
    )
    parser.add_argument(
        "--size", type=int, default=256, metavar="MiB", help="plaintext size (default 256)"
    )
    parser.add_argument(
        "--repeat", type=int, default=3, metavar="N", help="runs per variant, best kept (default 3)"
    )
    # The driver calls itself with these to run one variant in a fresh process.
    parser.add_argument("--worker", choices=WORKERS, help=argparse.SUPPRESS)
    parser.add_argument("--input", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--output", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--key", type=Path, help=argparse.SUPPRESS)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, run the benchmark or one worker, and turn errors into exit codes."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.size < 1 or args.repeat < 1:
        parser.error("--size and --repeat must be at least 1")
    try:
        if args.worker == "kdf":
            print(json.dumps({"runs_s": _kdf_runs(), "peak_rss_kib": _maxrss_kib()}))
        elif args.worker == "small":
            print(json.dumps(_small_report()))
        elif args.worker == "chunk":
            print(json.dumps(_chunk_push()))
        elif args.worker is not None:
            if args.input is None or args.output is None or args.key is None:
                parser.error("--worker needs --input, --output and --key")
            print(json.dumps(_worker(args.worker, args.input, args.output, args.key)))
        else:
            print(json.dumps(bench(args.size * MIB, args.repeat)))
    except BenchError as exc:
        print(f"bench: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
