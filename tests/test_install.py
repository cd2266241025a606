"""A non-editable install works: the wheel carries every file the tools read, and runs anywhere.

The project is built into a wheel from a copy of its tracked files (so stale
build output and uncompiled catalogs in the checkout cannot help), installed
with its extras into a fresh venv under the versions deploy/constraints.txt
pins, and run from a directory outside the source tree: each tool's `--help`,
`raazdar init --demo` into the default instance directory, `doctor`, and
`serve`, whose source page must come back in Urdu (templates, static files,
compiled catalogs and the gunicorn config all read from the installed package).
The development tools (`devnet/`, the private Tor network) stay out of the wheel,
and `serve --tor private` says so.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from tests.ports import free_port_pair

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("app", "crypto", "review", "submit")
# Files inside the packages that only building or translating reads.
BUILD_INPUTS = {"app/babel.cfg", "app/translations/messages.pot"}
INSTALL_TIMEOUT = 600
SERVE_TIMEOUT = 60.0


@dataclass(frozen=True)
class Installed:
    """A fresh venv holding the wheel, and a working directory outside the source tree."""

    wheel: Path
    venv: Path
    site: Path  # the venv's site-packages
    elsewhere: Path

    def run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """Run a tool of the venv from `elsewhere`, with no Raazdar variable or PYTHONPATH set."""
        return subprocess.run(  # noqa: S603 - a tool of the venv this test built
            [str(self.venv / "bin" / args[0]), *args[1:]],
            cwd=self.elsewhere,
            env=clean_env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


def clean_env() -> dict[str, str]:
    """This process's environment without what could point a tool back at the checkout."""
    return {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("RAAZDAR_", "PYTHON", "VIRTUAL_ENV", "GUNICORN", "FLASK_"))
    }


def tracked_files() -> list[str]:
    """The checkout's files that git would commit (tracked, or new and not ignored)."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],  # noqa: S607
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return sorted(p for p in listed.split("\0") if p and (ROOT / p).is_file())


def is_module(path: str) -> bool:
    """Whether `path` is Python source Python can import (gunicorn.conf.py is not)."""
    return path.endswith(".py") and "." not in Path(path).stem


def package_data() -> list[str]:
    """Every tracked file inside a package that is not a module nor a build input."""
    return [
        p
        for p in tracked_files()
        if p.split("/", 1)[0] in PACKAGES and not is_module(p) and p not in BUILD_INPUTS
    ]


def catalogs() -> list[str]:
    """The compiled catalogs a wheel must carry: one .mo per tracked .po."""
    return [p.removesuffix(".po") + ".mo" for p in tracked_files() if p.endswith(".po")]


def sh(*args: str, cwd: Path | None = None, timeout: float = INSTALL_TIMEOUT) -> None:
    """Run a build step; fail the test with its output if it fails."""
    result = subprocess.run(  # noqa: S603 - our own interpreter and pip
        args, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert result.returncode == 0, f"{' '.join(args)}:\n{result.stdout}\n{result.stderr}"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """Build the wheel from a copy of the tracked files and install it into a fresh venv."""
    work = tmp_path_factory.mktemp("install")
    source = work / "source"
    for name in tracked_files():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, source / name)
    wheels = work / "wheels"
    # Built as pip builds it anywhere: the backend ([build-system] requires) in an isolated
    # environment, from the index or pip's cache (this venv's setuptools may be older).
    python = sys.executable
    wheel_args = ["-m", "pip", "wheel", "-q", "--no-deps", "-w"]
    sh(python, *wheel_args, str(wheels), ".", cwd=source)
    (wheel,) = wheels.glob("raazdar-*.whl")
    venv = work / "venv"
    sh(python, "-m", "venv", str(venv))
    constraints = ROOT / "deploy" / "constraints.txt"
    install_args = ["-m", "pip", "install", "-q", "-c", str(constraints)]
    sh(str(venv / "bin" / "python"), *install_args, f"{wheel}[server,review,submit]")
    (site,) = (venv / "lib").glob("python3*/site-packages")
    elsewhere = work / "elsewhere"
    elsewhere.mkdir()
    return Installed(wheel=wheel, venv=venv, site=site, elsewhere=elsewhere)


def test_the_installed_packages_hold_every_data_file(installed: Installed) -> None:
    missing = [p for p in package_data() + catalogs() if not (installed.site / p).is_file()]
    assert not missing, f"not installed: {missing}"
    # And the data is the checkout's own, byte for byte.
    changed = [
        p for p in package_data() if (installed.site / p).read_bytes() != (ROOT / p).read_bytes()
    ]
    assert not changed


def test_the_gate_names_the_data_it_checks() -> None:
    names = set(package_data() + catalogs())
    for expected in (
        "app/templates/base.html",
        "app/static/style.css",
        "app/translations/ur/LC_MESSAGES/messages.mo",
        "app/migrations/script.py.mako",
        "app/api/openapi.json",
        "app/gunicorn.conf.py",
        "crypto/data/eff_large_wordlist.txt",
        "crypto/py.typed",
        "review/data/taxonomy.txt",
    ):
        assert expected in names


def test_the_tools_run_from_the_installed_packages(installed: Installed) -> None:
    where = installed.run("python", "-c", "import app, crypto, review, submit; print(app.__file__)")
    assert Path(where.stdout.strip()).is_relative_to(installed.site), where.stderr
    for tool in ("raazdar", "raazdar-review", "raazdar-submit"):
        result = installed.run(tool, "--help")
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith("Usage: "), result.stdout


def test_the_wheel_leaves_the_development_tools_out(installed: Installed) -> None:
    with zipfile.ZipFile(installed.wheel) as wheel:
        names = wheel.namelist()
    assert "app/operations/tor/control.py" in names  # the listing is the wheel's
    assert [n for n in names if n.startswith("devnet/") or "private_network" in n] == []
    assert not (installed.site / "devnet").exists()


@pytest.fixture(scope="module")
def instance(installed: Installed) -> Path:
    """`raazdar init --demo` with no --instance: the default directory, ./instance."""
    result = installed.run("raazdar", "init", "--demo")
    assert result.returncode == 0, result.stderr
    created = installed.elsewhere / "instance"
    assert f"created an instance in {created}" in result.stdout
    assert (created / "config.json").is_file()
    assert not (installed.site / "instance").exists()
    return created


def test_doctor_finds_the_installed_gunicorn_config(installed: Installed, instance: Path) -> None:
    result = installed.run("raazdar", "--instance", str(instance), "doctor")
    assert re.search(r"^\S+\s+gunicorn\s+no access log$", result.stdout, re.MULTILINE), (
        result.stdout + result.stderr
    )


def test_the_installed_server_says_it_has_no_private_tor_network(
    installed: Installed, instance: Path
) -> None:
    result = installed.run("raazdar", "--instance", str(instance), "serve", "--tor", "private")
    assert result.returncode == 1
    assert result.stdout == ""  # refused before anything started
    error, hint = result.stderr.splitlines()
    assert error.startswith("raazdar: error: the private Tor network is a development tool "), error
    assert f"{installed.site} is none" in error
    assert hint.startswith("raazdar: hint: run it from a source checkout (`bash deploy/demo.sh`)")


@pytest.fixture
def served(installed: Installed, instance: Path) -> Iterator[int]:
    """`raazdar serve --tor off` on a free port, stopped by its process id at the end."""
    port = free_port_pair()  # serve binds the staff listener on port + 1
    env = clean_env() | {"RAAZDAR_WORKERS": "1", "RAAZDAR_THREADS": "2"}
    command = [str(installed.venv / "bin" / "raazdar"), "--instance", str(instance), "serve"]
    process = subprocess.Popen(  # noqa: S603 - the venv's own tool
        [*command, "--tor", "off", "--port", str(port)],
        cwd=installed.elsewhere,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + SERVE_TIMEOUT
        while time.monotonic() < deadline and process.poll() is None:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.2)
        assert process.poll() is None, "raazdar serve stopped"
        yield port
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=SERVE_TIMEOUT)


def test_the_installed_server_answers_in_urdu(served: int) -> None:
    with (ROOT / "app/translations/ur/LC_MESSAGES/messages.po").open("rb") as po:
        urdu = read_po(po)["Make a report"].string
    assert isinstance(urdu, str)
    assert urdu
    with contextlib.closing(http.client.HTTPConnection("127.0.0.1", served, timeout=30)) as to:
        to.request("GET", "/")
        response = to.getresponse()
        page = response.read().decode()
        assert response.status == 200
        assert urdu in page
        assert "Make a report" not in page
        to.request("GET", "/static/style.css")
        response = to.getresponse()
        assert response.status == 200
        assert response.read() == (ROOT / "app/static/style.css").read_bytes()
