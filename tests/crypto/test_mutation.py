"""A small mutation gate over crypto/: each named single-rule break must make a test fail.

Every mutant is applied to a copy of crypto/ and of the crypto tests in a temporary
directory, and the tests that guard that rule run against the copy. A mutant that
survives means a rule of the format is no longer tested. The list holds the
breaks an audit's mutation run once found uncaught, and the rules added since.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Mutant:
    """One single-line break: where, what it replaces, and the tests that must catch it."""

    name: str
    path: str
    original: str
    mutated: str
    tests: str
    select: str


MUTANTS = [
    Mutant(
        "padding beside the content accepted",
        "crypto/envelope/open.py",
        "        if pad != _ZEROS[: len(pad)]:",
        "        if False:",
        "tests/crypto/test_envelope_open.py",
        "padding",
    ),
    Mutant(
        "padding in padding-only chunks accepted",
        "crypto/envelope/open.py",
        "        if data[:cut] != _ZEROS[:cut]:",
        "        if False:",
        "tests/crypto/test_envelope_open.py",
        "padding",
    ),
    Mutant(
        "a second PUSH chunk accepted",
        "crypto/envelope/open.py",
        "        if push and self._held is not None:",
        "        if False:",
        "tests/crypto/test_envelope_open.py",
        "second_chunk",
    ),
    Mutant(
        "a final chunk before the last accepted",
        "crypto/envelope/open.py",
        "        if tag == _TAG_FINAL and not last:",
        "        if False:",
        "tests/crypto/test_envelope_open.py",
        "final_chunk_before",
    ),
    Mutant(
        "key file halves not compared",
        "crypto/keyfile.py",
        "        if keys._public() != self.public:",
        "        if False:",
        "tests/crypto/test_keyfile.py",
        "halves",
    ),
    Mutant(
        "key file KDF work not capped",
        "crypto/kdf.py",
        "        if self.ops > cap.ops or self.mem > cap.mem:",
        "        if False:",
        "tests/crypto/test_keyfile.py",
        "kdf",
    ),
    Mutant(
        "key file binding not checked",
        "crypto/keyfile.py",
        "        result.check_binding()",
        "        pass",
        "tests/crypto/test_keyfile.py",
        "edited",
    ),
    Mutant(
        "token context ignored",
        "crypto/token.py",
        "            plaintext, context, nonce, self._key",
        '            plaintext, b"", nonce, self._key',
        "tests/crypto/test_token.py",
        "context",
    ),
    Mutant(
        "X25519 bit 255 accepted",
        "crypto/keys.py",
        '        if int.from_bytes(self._raw, "little") >= _FIELD_PRIME:',
        "        if False:",
        "tests/crypto/test_keys.py",
        "bit_255 or field_prime",
    ),
    Mutant(
        "a packet's own countersignature claim trusted over the policy",
        "crypto/packet.py",
        "    if content.countersignatures < countersignatures:",
        "    if False:",
        "tests/crypto/test_packet.py",
        "countersignature or person or policy",
    ),
    Mutant(
        "packet signers counted per key, not per person",
        "crypto/packet.py",
        "    who = tuple(dict.fromkeys(_person(k, people) for k in packet.signers))",
        "    who = tuple(_person(k, people) for k in packet.signers)",
        "tests/crypto/test_packet.py",
        "person",
    ),
    Mutant(
        "classical and hybrid recipients sealed together",
        "crypto/envelope/version.py",
        "    if all(isinstance(r, HybridPublicKey) for r in recipients):",
        "    if any(isinstance(r, HybridPublicKey) for r in recipients):",
        "tests/crypto/test_envelope_v2.py",
        "mixing",
    ),
    Mutant(
        "v2 wrap key not bound to the recipient's public key",
        "crypto/envelope/stanza_v2.py",
        "blake2b(ciphertext + public.raw, key=shared_secret,",
        "blake2b(ciphertext, key=shared_secret,",
        "tests/crypto/test_envelope_v2.py",
        "wrap_key",
    ),
    Mutant(
        "a hybrid key's X25519 half not validated",
        "crypto/hybrid.py",
        "            PublicKey(self._kem.x25519)",
        "            pass",
        "tests/crypto/test_hybrid_keys.py",
        "low_order or non_canonical",
    ),
    Mutant(
        "X-Wing combiner without the X25519 ciphertext",
        "crypto/xwing.py",
        "    return hashlib.sha3_256(ss_m + ss_x + ct_x + pk_x + LABEL).digest()",
        "    return hashlib.sha3_256(ss_m + ss_x + pk_x + LABEL).digest()",
        "tests/crypto/test_xwing.py",
        "vectors",
    ),
    Mutant(
        "a subkey list naming another reviewer accepted",
        "crypto/subkeys.py",
        "    if subkeys.reviewer != reviewer:",
        "    if False:",
        "tests/crypto/test_subkeys.py",
        "another_reviewer",
    ),
    Mutant(
        "a subkey list dated in the future accepted",
        "crypto/subkeys.py",
        "    if subkeys.issued > today + _GRACE:",
        "    if False:",
        "tests/crypto/test_subkeys.py",
        "future",
    ),
    Mutant(
        "sealing to another week's subkey than today's",
        "crypto/subkeys.py",
        "    key = subkeys.key_for(period)",
        "    key = subkeys.subkeys[0][1]",
        "tests/crypto/test_subkeys.py",
        "own_weeks or week_53",
    ),
    Mutant(
        "one subkey listed for two weeks",
        "crypto/subkeys.py",
        "        if len(set(keys)) != len(keys):",
        "        if False:",
        "tests/crypto/test_subkeys.py",
        "two_periods",
    ),
    Mutant(
        "a week's secret destroyed before the week closed",
        "crypto/subkeys.py",
        "    return min(imported_through, closed_through(today))",
        "    return imported_through",
        "tests/crypto/test_subkeys.py",
        "destroy or kept",
    ),
    Mutant(
        "a week closed without the clock allowance",
        "crypto/subkeys.py",
        "    edge = day - _GRACE - dt.timedelta(days=1)",
        "    edge = day - dt.timedelta(days=1)",
        "tests/crypto/test_subkeys.py",
        "closed",
    ),
    Mutant(
        "a subkey list for another instance accepted",
        "crypto/subkeys.py",
        "    if subkeys.instance != ours:",
        "    if False:",
        "tests/crypto/test_subkeys_sealing.py",
        "instance_a_is_refused",
    ),
    Mutant(
        "a list numbered before the one installed taken as newer (a re-key undone)",
        "crypto/subkeys.py",
        "        if other.sequence > self.sequence:",
        "        if False:",
        "tests/crypto/test_subkeys_sealing.py",
        "numbered_before",
    ),
    Mutant(
        "a subkey list from a withheld newer keyring accepted",
        "crypto/subkeys.py",
        "    if subkeys.keyring is not None and subkeys.keyring > manifest.version:",
        "    if False:",
        "tests/crypto/test_subkeys_sealing.py",
        "later_keyring",
    ),
    Mutant(
        "a key listed in two roles of a keyring accepted",
        "crypto/manifest.py",
        "    if authorities & reviewers or server & (authorities | reviewers | stamper):",
        "    if False:",
        "tests/crypto/test_manifest_instance.py",
        "two_roles or its_own or with_its_key or as_timestamp_key",
    ),
    Mutant(
        "a keyring valid past a leap year accepted",
        "crypto/manifest.py",
        "    if (manifest.expires - manifest.issued).days > C.MANIFEST_MAX_DAYS:",
        "    if False:",
        "tests/crypto/test_manifest_instance.py",
        "leap_year",
    ),
]


def _copy(tmp: Path) -> None:
    shutil.copytree(ROOT / "crypto", tmp / "crypto")
    (tmp / "tests").mkdir()
    for name in ("__init__.py", "conftest.py", "postgres.py"):
        shutil.copy(ROOT / "tests" / name, tmp / "tests" / name)
    shutil.copytree(ROOT / "tests" / "crypto", tmp / "tests" / "crypto")
    shutil.copy(ROOT / "pyproject.toml", tmp / "pyproject.toml")


def _run(tmp: Path, tests: list[str], select: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider"]
    command += [*tests, "-k", select]
    return subprocess.run(  # noqa: S603 - our own interpreter and arguments
        command, cwd=tmp, capture_output=True, text=True, timeout=300, check=False
    )


@pytest.fixture(scope="module")
def _unmutated(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Every mutant's guarding tests pass on an unbroken copy: run once, all together.

    So a mutant's failing run is its break caught, not a copy that lacks something.
    """
    tmp = tmp_path_factory.mktemp("unmutated")
    _copy(tmp)
    files = sorted({m.tests for m in MUTANTS})
    select = " or ".join(f"({m.select})" for m in MUTANTS)
    unmutated = _run(tmp, files, select)
    assert unmutated.returncode == 0, unmutated.stdout[-2000:]


@pytest.mark.slow
@pytest.mark.usefixtures("_unmutated")
@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.name for m in MUTANTS])
def test_every_named_break_of_a_crypto_rule_makes_a_test_fail(
    mutant: Mutant, tmp_path: Path
) -> None:
    _copy(tmp_path)
    target = tmp_path / mutant.path
    source = target.read_text()
    assert source.count(mutant.original) == 1, f"{mutant.name}: the line to break moved"
    target.write_text(source.replace(mutant.original, mutant.mutated))

    result = _run(tmp_path, [mutant.tests], mutant.select)

    # 1 is "tests failed"; anything else (an import error, say) proves nothing.
    assert result.returncode == 1, f"{mutant.name} survived:\n{result.stdout[-2000:]}"
