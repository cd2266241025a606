"""deploy/bootstrap.sh installs nothing an index could swap: every artefact's hash is pinned.

The locks in deploy/locks/ (deploy/locks/lock.sh makes them) pin every package
each set of extras needs, and theirs, with the hashes of the files PyPI serves;
bootstrap installs them with `--require-hashes`, builds nothing in isolation
(an isolated build fetches its tools unchecked) and installs Raazdar itself with
`--no-index`. A mirror that serves another file under a pinned name and version
is refused before anything of it is installed.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
LOCKS = ROOT / "deploy" / "locks"
BOOTSTRAP = ROOT / "deploy" / "bootstrap.sh"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
EXTRAS: dict[str, list[str]] = PYPROJECT["project"]["optional-dependencies"]
# A pinned requirement: its name, version, markers, and the hashes on its continuation lines.
PIN = re.compile(
    r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+?)(?: ;[^\\\n]*)?((?: \\\n\s+--hash=\S+)+)", re.M
)


def pins(lock: Path) -> dict[str, tuple[str, list[str]]]:
    """Each package a lock pins: its version and the hashes it accepts."""
    found: dict[str, tuple[str, list[str]]] = {}
    for name, version, hashes in PIN.findall(lock.read_text()):
        found[canonicalize_name(name)] = (version, re.findall(r"--hash=(\S+)", hashes))
    return found


def extras_of(lock: Path) -> list[str]:
    """The extras a lock is for, from its name (`dev+review+server+submit.txt`)."""
    return lock.stem.split("+")


def extra_locks() -> list[Path]:
    return sorted(p for p in LOCKS.glob("*.txt") if p.name != "build.txt")


def test_there_is_a_lock_for_each_extra_and_for_all_of_them() -> None:
    names = {p.stem for p in extra_locks()}
    # `dev` is only ever installed with the rest (tests/run.sh, deploy/demo.sh).
    assert {*EXTRAS} - {"dev"} | {"+".join(sorted(EXTRAS))} <= names, names


@pytest.mark.parametrize("lock", extra_locks(), ids=lambda p: p.stem)
def test_each_lock_pins_every_dependency_of_its_extras(lock: Path) -> None:
    pinned = pins(lock)
    wanted = list(PYPROJECT["project"]["dependencies"])
    for extra in extras_of(lock):
        wanted += EXTRAS[extra]
    for line in wanted:
        requirement = Requirement(line)
        name = canonicalize_name(requirement.name)
        assert name in pinned, f"{lock.name} does not pin {requirement.name}"
        version, _ = pinned[name]
        assert requirement.specifier.contains(version, prereleases=True), (
            f"{lock.name} pins {name}=={version}, outside pyproject's {requirement.specifier}"
        )


def test_the_build_lock_pins_what_building_raazdar_needs() -> None:
    pinned = pins(LOCKS / "build.txt")
    for line in PYPROJECT["build-system"]["requires"]:
        requirement = Requirement(line)
        name = canonicalize_name(requirement.name)
        assert name in pinned, f"build.txt does not pin {requirement.name}"
        assert requirement.specifier.contains(pinned[name][0], prereleases=True)


@pytest.mark.parametrize("lock", sorted(LOCKS.glob("*.txt")), ids=lambda p: p.stem)
def test_every_requirement_of_a_lock_is_pinned_with_a_hash(lock: Path) -> None:
    requirements = [
        line
        for line in lock.read_text().splitlines()
        if line and not line.startswith((" ", "#", "-"))
    ]
    assert requirements
    assert len(requirements) == len(pins(lock)), (
        f"{lock.name}: a requirement without `==` or a hash: {requirements}"
    )
    for name, (_, hashes) in pins(lock).items():
        assert hashes, name
        assert all(re.fullmatch(r"sha256:[0-9a-f]{64}", h) for h in hashes), name


@pytest.mark.parametrize("lock", sorted(LOCKS.glob("*.txt")), ids=lambda p: p.stem)
def test_the_locks_pin_the_versions_the_constraints_pin(lock: Path) -> None:
    constrained: dict[str, str] = {}
    for line in (ROOT / "deploy" / "constraints.txt").read_text().split():
        name, _, version = line.partition("==")
        constrained[canonicalize_name(name)] = version
    for name, (version, _) in pins(lock).items():
        if name in constrained:
            assert version == constrained[name], f"{lock.name}: {name}=={version}"


def test_bootstrap_installs_only_what_the_locks_hash() -> None:
    """Each pip install either checks every hash or fetches nothing."""
    script = BOOTSTRAP.read_text()
    installs = [
        line
        for line in script.splitlines()
        if re.search(r"pip install|\$\{pip\[@\]\}", line) and "pip=(" not in line
    ]
    assert installs, "bootstrap.sh installs nothing?"
    for line in installs:
        assert "--require-hashes" in line or "--no-index" in line, (
            f"bootstrap.sh installs without --require-hashes: {line.strip()}"
        )
        if "--require-hashes" in line and "build.txt" not in line:
            assert "--no-build-isolation" in line, line.strip()


def poisoned_wheel(directory: Path, name: str, version: str) -> Path:
    """A wheel an index could serve under a pinned name and version, with its own code."""
    wheel = directory / f"{name.replace('-', '_')}-{version}-py3-none-any.whl"
    info = f"{name.replace('-', '_')}-{version}.dist-info"
    with zipfile.ZipFile(wheel, "w") as out:
        out.writestr("poisoned_by_the_index.py", "raise SystemExit('owned')\n")
        metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
        out.writestr(f"{info}/METADATA", metadata)
        tag = "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        out.writestr(f"{info}/WHEEL", tag)
        out.writestr(f"{info}/RECORD", "")
    return wheel


@pytest.mark.parametrize("lock", ["build.txt", "server.txt"])
def test_a_package_the_index_swaps_is_refused(tmp_path: Path, lock: str) -> None:
    """A mirror serving its own file under a pinned version gets nothing installed."""
    name, (version, hashes) = sorted(pins(LOCKS / lock).items())[0]
    index = tmp_path / "mirror"
    index.mkdir()
    poisoned_wheel(index, name, version)
    subset = tmp_path / "subset.txt"
    subset.write_text(f"{name}=={version} " + " ".join(f"--hash={h}" for h in hashes) + "\n")
    out = tmp_path / "out"
    result = subprocess.run(  # noqa: S603 - this interpreter's own pip, on loopback files only
        [
            *(sys.executable, "-m", "pip", "download", "--isolated", "--no-deps", "--no-index"),
            *("--find-links", str(index), "--require-hashes", "-r", str(subset), "-d", str(out)),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0, f"the swapped {name} {version} was taken: {result.stdout}"
    assert "DO NOT MATCH THE HASHES" in result.stderr, result.stderr
    assert not list(out.glob("*.whl")) if out.exists() else True


def test_bootstrap_refuses_extras_it_has_no_lock_for(tmp_path: Path) -> None:
    """Before it makes or touches any venv: nothing unhashed is installed instead."""
    result = subprocess.run(  # noqa: S603 - our own script
        ["bash", str(BOOTSTRAP)],  # noqa: S607 - bash from PATH
        env={"PATH": "/usr/bin:/bin", "RAAZDAR_EXTRAS": "server,dev", "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    error, hint = result.stderr.splitlines()
    assert error == "raazdar: error: no hashed lock for the extras 'server,dev'"
    assert hint == (
        "raazdar: hint: RAAZDAR_EXTRAS is one of: dev,review,server,submit review server submit"
    )
