"""The external tools the envelope is compared with: gpg (as SecureDrop uses it) and age."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from tests.bench.measure import Variant, call, check_round_trip, measure_tool, progress


def _first_line(argv: list[str]) -> str:
    return call(argv).strip().splitlines()[0]


def bench_gpg(tmp: Path, plain: Path, digest: str, size: int, repeat: int) -> Variant | None:
    """Encrypt with zlib compression to a fresh Curve25519 key, as SecureDrop does."""
    gpg, gpgconf = shutil.which("gpg"), shutil.which("gpgconf")
    if gpg is None or gpgconf is None:
        print("gpg: not installed; skipping it", file=sys.stderr)
        return None
    home = tmp / "gnupg"
    home.mkdir(mode=0o700)
    env = {**os.environ, "GNUPGHOME": str(home)}
    variant = Variant("gpg", "gpg zlib cv25519", note=_first_line([gpg, "--version"]))
    uid = "bench <bench@example.invalid>"
    common = [gpg, "--batch", "--yes", "--quiet"]
    encrypt = [*common, "--trust-model", "always", "--compress-algo", "zlib", "-r", uid]
    sealed, opened, report = tmp / "sealed.gpg", tmp / "opened", tmp / "rusage"
    try:
        keygen = [gpg, "--batch", "--passphrase", "", "--quick-gen-key", uid]
        call([*keygen, "future-default", "default", "never"], env)
        # Start gpg-agent before timing, so that no timed run pays for its start.
        warm, warm_out = tmp / "warm", tmp / "warm.gpg"
        warm.write_bytes(b"warm-up")
        call([*encrypt, "--encrypt", "-o", str(warm_out), str(warm)], env)
        call([*common, "-o", str(warm), "--decrypt", str(warm_out)], env)
        for _ in range(repeat):
            run = measure_tool([*encrypt, "--encrypt", "-o", str(sealed), str(plain)], report, env)
            variant.seals.append(run)
            progress(variant.name, "seal", run, size)
            run = measure_tool([*common, "-o", str(opened), "--decrypt", str(sealed)], report, env)
            variant.opens.append(run)
            progress(variant.name, "open", run, size)
            check_round_trip(variant.name, opened, digest)
            sealed.unlink()
    finally:
        # Stop the gpg-agent (and anything else) that this throwaway home started.
        call([gpgconf, "--kill", "all"], env)
    return variant


def bench_age(tmp: Path, plain: Path, digest: str, size: int, repeat: int) -> Variant | None:
    """Encrypt to a fresh X25519 recipient with the age command-line tool."""
    age, keygen = shutil.which("age"), shutil.which("age-keygen")
    if age is None or keygen is None:
        print("age: not installed; skipping it", file=sys.stderr)
        return None
    variant = Variant("age", "age X25519", note="age " + _first_line([age, "--version"]))
    identity = tmp / "age.key"
    call([keygen, "-o", str(identity)])
    recipient = call([keygen, "-y", str(identity)]).strip()
    sealed, opened, report = tmp / "sealed.age", tmp / "opened", tmp / "rusage"
    for _ in range(repeat):
        run = measure_tool([age, "-r", recipient, "-o", str(sealed), str(plain)], report)
        variant.seals.append(run)
        progress(variant.name, "seal", run, size)
        decrypt = [age, "-d", "-i", str(identity), "-o", str(opened), str(sealed)]
        run = measure_tool(decrypt, report)
        variant.opens.append(run)
        progress(variant.name, "open", run, size)
        check_round_trip(variant.name, opened, digest)
        sealed.unlink()
    return variant


def sequoia_worker(step: str, src: Path, dst: Path, key: Path) -> None:
    """Encrypt or decrypt one file with Sequoia (pysequoia), in a worker process."""
    import pysequoia  # optional: the bench runs without it

    tsk = pysequoia.Tsk.from_bytes(key.read_bytes())
    if step == "seal":
        recipients = [tsk.extract_certificate()]
        pysequoia.encrypt_file(str(src), str(dst), recipients, armor=False)
    else:
        pysequoia.decrypt_file(str(src), str(dst), decryptor=tsk.decryptor())


def sequoia_key() -> bytes | None:
    """A fresh Curve25519 OpenPGP key (secret included), or None if pysequoia is missing."""
    try:
        import pysequoia  # optional: the bench runs without it
    except ImportError:
        return None
    suite = pysequoia.CipherSuite.Cv25519
    return bytes(pysequoia.Tsk.generate("bench <bench@example.invalid>", cipher_suite=suite))
