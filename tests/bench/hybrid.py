"""Benchmark envelope v2 (hybrid X-Wing recipients) beside v1: fixed cost per envelope, and bulk.

Run from the repository root: `python -m tests.bench.hybrid [--size MiB] [--repeat N]`.
A 4 KiB report is sealed and opened to 3 and to 10 recipients in both versions
(the fixed cost: one SealedBox or one X-Wing encapsulation per recipient), the
KEM operations are timed alone, and a larger file is sealed and opened in both
versions to show that the payload costs the same. Everything runs in this one
process, one variant after another, best of `--repeat`; ratios use CPU time,
which other processes on a shared machine barely move. The table and a last
line of JSON go to stdout. The age on this machine (1.1.1) has no post-quantum
recipients (those came in 1.3), so age is not in this table.
"""

from __future__ import annotations

import argparse
import functools
import io
import json
import os
import time
from collections.abc import Callable
from typing import Any, BinaryIO, cast

from crypto import HybridPrivateKey, HybridPublicKey, Metadata, PrivateKey, open_bytes, seal_bytes
from crypto.envelope import open_envelope, seal

META = Metadata(kind="message", content_type="text/plain; charset=utf-8")
SMALL = 4096


def best(fn: Callable[[], object], repeat: int, number: int) -> tuple[float, float]:
    """Best wall and CPU seconds per call over `repeat` rounds of `number` calls."""
    walls, cpus = [], []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(number):
            fn()
        walls.append((time.perf_counter() - wall) / number)
        cpus.append((time.process_time() - cpu) / number)
    return min(walls), min(cpus)


def fixed_costs(repeat: int) -> dict[str, Any]:
    """Seal and open a 4 KiB report to 3 and 10 recipients, v1 and v2: wall and CPU µs."""
    report = os.urandom(SMALL)
    out: dict[str, Any] = {}
    for count in (3, 10):
        keysets: dict[str, list[PrivateKey] | list[HybridPrivateKey]] = {
            "v1": [PrivateKey.generate() for _ in range(count)],
            "v2": [HybridPrivateKey.generate() for _ in range(count)],
        }
        for name, keys in keysets.items():
            publics = [k.public_key for k in keys]
            envelope = seal_bytes(report, publics, META)
            sealing = functools.partial(seal_bytes, report, publics, META)
            seal_s, seal_cpu = best(sealing, repeat, 20)
            # The last recipient: the opener tries its key against each stanza's key id.
            open_s, open_cpu = best(functools.partial(open_bytes, envelope, keys[-1:]), repeat, 20)
            out[f"{name}_r{count}"] = {
                "seal_us": round(seal_s * 1e6),
                "seal_cpu_us": round(seal_cpu * 1e6),
                "open_us": round(open_s * 1e6),
                "open_cpu_us": round(open_cpu * 1e6),
                "bytes": len(envelope),
            }
    return out


def kem_costs(repeat: int) -> dict[str, float]:
    """Time the per-recipient steps alone (through the key objects' own KEM): CPU µs."""
    key = HybridPrivateKey.generate()
    public = key.public_key
    raw = public.raw
    _, ciphertext = public._xwing.encapsulate()
    steps: dict[str, Callable[[], object]] = {
        "xwing_encapsulate": public._xwing.encapsulate,
        "xwing_decapsulate": lambda: key._xwing.decapsulate(ciphertext),
        "hybrid_public_key_load": lambda: HybridPublicKey(raw),
        "hybrid_key_from_seed": lambda: HybridPrivateKey(raw[:32]),
    }
    return {name: round(best(step, repeat, 200)[1] * 1e6, 1) for name, step in steps.items()}


def bulk(size: int, repeat: int) -> dict[str, float]:
    """Seal and open `size` bytes in memory, v1 and v2, one recipient: MB/s by CPU time.

    The rounds alternate v1 and v2, so neither gets the cold first round alone.
    """
    data = os.urandom(size)
    keys: dict[str, PrivateKey | HybridPrivateKey] = {
        "v1": PrivateKey.generate(),
        "v2": HybridPrivateKey.generate(),
    }
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in keys}
    for _ in range(repeat):
        for name, key in keys.items():
            runs[name].append(_bulk_one(data, key))
    out: dict[str, float] = {}
    for name in keys:
        out[f"{name}_seal_cpu_mbps"] = round(size / 1e6 / min(r[0] for r in runs[name]), 1)
        out[f"{name}_open_cpu_mbps"] = round(size / 1e6 / min(r[1] for r in runs[name]), 1)
    out["v2_over_v1_seal"] = round(out["v2_seal_cpu_mbps"] / out["v1_seal_cpu_mbps"], 3)
    out["v2_over_v1_open"] = round(out["v2_open_cpu_mbps"] / out["v1_open_cpu_mbps"], 3)
    return out


class _Sink(io.RawIOBase):
    """A stream that takes every write and keeps nothing, so no allocation is timed."""

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        return len(memoryview(data).cast("B"))


_SINK = cast(BinaryIO, _Sink())


def _bulk_one(data: bytes, key: PrivateKey | HybridPrivateKey) -> tuple[float, float]:
    """CPU seconds to seal `data` to `key`, and to open it again, writing to a sink."""
    seal_cpu = best(lambda: seal(io.BytesIO(data), _SINK, [key.public_key], META), 1, 1)[1]
    envelope = io.BytesIO()
    seal(io.BytesIO(data), envelope, [key.public_key], META)
    source = io.BytesIO(envelope.getvalue())
    open_cpu = best(lambda: open_envelope(source, _SINK, [key]), 1, 1)[1]
    return seal_cpu, open_cpu


def main(argv: list[str] | None = None) -> int:
    """Print the table and the JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=16, help="bulk size in MiB (default 16)")
    parser.add_argument("--repeat", type=int, default=5, help="rounds, best taken (default 5)")
    args = parser.parse_args(argv)
    fixed = fixed_costs(args.repeat)
    kem = kem_costs(args.repeat)
    large = bulk(args.size * 1024 * 1024, args.repeat)

    print(f"4 KiB report, best of {args.repeat} (wall µs; CPU µs in brackets)")
    print(f"{'':14}{'seal':>16}{'open':>16}{'bytes':>9}")
    for count in (3, 10):
        for name in ("v1", "v2"):
            f = fixed[f"{name}_r{count}"]
            seal_text = f"{f['seal_us']} ({f['seal_cpu_us']})"
            open_text = f"{f['open_us']} ({f['open_cpu_us']})"
            print(f"{name} r={count:<9}{seal_text:>16}{open_text:>16}{f['bytes']:>9}")
        v1, v2 = fixed[f"v1_r{count}"], fixed[f"v2_r{count}"]
        print(
            f"{'':14}v2/v1 by CPU: seal {v2['seal_cpu_us'] / v1['seal_cpu_us']:.2f}x,"
            f" open {v2['open_cpu_us'] / v1['open_cpu_us']:.2f}x"
        )
    print("per recipient (CPU µs): " + ", ".join(f"{k} {v}" for k, v in kem.items()))
    print(
        f"{args.size} MiB, one recipient (MB/s by CPU): v1 seal {large['v1_seal_cpu_mbps']}"
        f" open {large['v1_open_cpu_mbps']}; v2 seal {large['v2_seal_cpu_mbps']} open"
        f" {large['v2_open_cpu_mbps']}; v2/v1 {large['v2_over_v1_seal']} seal,"
        f" {large['v2_over_v1_open']} open"
    )
    print(json.dumps({"fixed": fixed, "kem": kem, "bulk": large}, sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
