"""A run of the client killed outright (SIGKILL, out of memory, a phone's battery): what it
leaves on the device, and what the next run makes of it.

The attack, as whoever takes the phone: a `send` killed while it seals leaves
envelopes its state never recorded; a save killed before its rename leaves the
sealed state it was writing under a temporary name, with the one-time reply keys
it held then. Nothing that could cut them came after.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

import pytest

from crypto import HybridPrivateKey
from submit.errors import StateError
from tests.submit.support import CuttingProxy, Device, open_state
from tests.submit.test_codenames import _carry
from tests.submit.test_seizure import _sent_then_cut

_CLIENT: Final = (sys.executable, "-c", "from submit.cli import main; main()")
_TREE: Final = Path(__file__).parents[2]
# openat(2): 257 on x86-64, 56 on arm64.
_OPENAT: Final = {"257", "56"}
_PAGE: Final = 4096


def _opening(pid: int) -> bool:
    """Whether the process is blocked in openat(2) (here: a FIFO no one writes yet)."""
    try:
        return Path(f"/proc/{pid}/syscall").read_text().split()[0] in _OPENAT
    except (OSError, IndexError):
        return False


def _killed_while_sealing(device: Device, codename: Path, tmp_path: Path) -> None:
    """`send` a report and a file, killed once the report's envelope is sealed on the disk and
    the file (a FIFO no one writes) is being opened: before the state records either."""
    message = tmp_path / "message.txt"
    message.write_text("The SHO at the border post takes money for each family")
    fifo = tmp_path / "ledger.pdf"
    os.mkfifo(fifo)
    arguments = device.arguments(
        "send", "--message-file", str(message), "--codename-file", str(codename), str(fifo)
    )
    proc = subprocess.Popen(  # noqa: S603 - our own client, fixed arguments
        [*_CLIENT, *arguments],
        env={**os.environ, "PYTHONPATH": str(_TREE)},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not (_opening(proc.pid) and list(device.state.glob("*.pending/0.rze"))):
            assert time.monotonic() < deadline, "the client never sealed the report"
            assert proc.poll() is None, "the client ended before it opened the file"
            time.sleep(0.05)
        proc.kill()
    finally:
        proc.kill()
        proc.wait(10)
    fifo.unlink()


def test_a_send_killed_while_sealing_leaves_no_envelope_and_blocks_no_later_send(
    tmp_path: Path, device: Device, codename_file: Path
) -> None:
    """Before: the report's sealed envelope stayed in `<name>.pending/` for good (its size
    class on the phone), and every later `send` of the codename failed with "File exists"
    while `--discard` said there was nothing to discard."""
    # A first report, so the state exists and the kill comes in a later send.
    first = device.run("send", "-m", "first", "--codename-file", str(codename_file))
    assert first.exit_code == 0, first.output
    _killed_while_sealing(device, codename_file, tmp_path)
    assert open_state(device.state, codename_file).pending is None, "the state recorded it"
    left = sorted(p.name for p in device.state.glob("*.pending/*"))
    assert left, "the kill came before the report's envelope was written"

    again = device.run("send", "-m", "second", "--codename-file", str(codename_file))
    assert again.exit_code == 0, f"a later send fails after the kill: {again.output}"
    assert not list(device.state.glob("*.pending")), "envelopes of the killed send stay"


def test_a_save_killed_before_its_rename_leaves_no_reply_key_behind(
    device: Device, codename_file: Path
) -> None:
    """Before: the state a save was writing when killed stayed under its temporary name,
    sealed under the codename, and kept the one-time reply keys the state deletes later,
    once their replies are read: whoever took the phone and the codename opened those."""
    sent = device.run("send", "-m", "first", "--codename-file", str(codename_file))
    assert sent.exit_code == 0, sent.output
    state = open_state(device.state, codename_file)
    assert state.path is not None
    assert state.prekeys
    # What a kill between the write of the new state and its rename leaves (the name is
    # `tempfile.mkstemp`'s, as `state._write_atomically` makes it).
    leftover = state.path.with_name(f".{state.path.name}.k1ll3d_x")
    shutil.copyfile(state.path, leftover)

    later = device.run("replies", "--codename-file", str(codename_file))
    assert later.exit_code == 0, later.output
    # A reply sealed to a one-time key is read: the state deletes its secret.
    key: HybridPrivateKey = state.prekeys[0]
    state = open_state(device.state, codename_file)
    state.forget_prekey(key)
    left = [p for p in device.state.iterdir() if p.name.startswith(".")]
    opened = [open_state_at(p, device, codename_file) for p in left]
    holding = [p.name for p, keys in zip(left, opened, strict=True) if key in keys]
    assert holding == [], f"a killed save's state still opens that reply: {holding}"


def open_state_at(path: Path, device: Device, codename: Path) -> list[HybridPrivateKey]:
    """The reply keys the sealed state file at `path` holds, opened with the codename as the
    client opens its own (beside the device's salt, under the codename's file name)."""
    name = open_state(device.state, codename).path
    assert name is not None
    aside = path.parent.parent / "aside"
    shutil.rmtree(aside, ignore_errors=True)
    aside.mkdir()
    shutil.copyfile(device.state / "device.json", aside / "device.json")
    shutil.copyfile(path, aside / name.name)
    return open_state(aside, codename).prekeys


def test_a_state_directory_whose_filesystem_ignores_permissions_is_refused(
    tmp_path: Path, device: Device, codename_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A phone's shared storage (`~/storage` in Termux, /sdcard: FUSE or sdcardfs) and a FAT
    card ignore chmod: every app with the storage permission reads what is there. Simulated
    here by a directory made open to all and a chmod that does nothing, as those do.
    Before: the client wrote its salt, its sealed state and its envelopes there, 0777."""
    shared = tmp_path / "storage"
    shared.mkdir()
    shared.chmod(0o777)
    monkeypatch.setattr(os, "chmod", lambda *_args, **_kwargs: None)
    on_shared = dataclasses.replace(device, state=shared)
    result = on_shared.run("send", "-m", "first", "--codename-file", str(codename_file))
    written = sorted(p.name for p in shared.iterdir())
    assert written == [], f"the client wrote {written} where any app reads them"
    assert result.exit_code == 1, result.output
    assert "does not keep permissions" in result.stderr


def _snapshots_of_a_run_killed_at_each_step(
    device: Device, monkeypatch: pytest.MonkeyPatch, run: Callable[[], Any], into: Path
) -> list[tuple[str, Path]]:
    """Run `run` once, copying the state directory as a kill would leave it before each call
    that changes a file, and halfway through each write of more than a page (the kernel
    stops a write killed between its pages).

    Only the run's own calls are caught: the server answers in threads of this process,
    and a call of theirs (a request still settling as the run starts, under load) would
    otherwise copy the directory at the same moment, into the same place."""
    snapshots: list[tuple[str, Path]] = []
    run_thread = threading.get_ident()

    def snap(step: str) -> None:
        copy = into / f"{len(snapshots):02d}"
        shutil.copytree(device.state, copy)
        snapshots.append((step, copy))

    def killed_before(name: str, real: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            if threading.get_ident() != run_thread:
                return real(*args, **kwargs)
            snap(f"before {name}")
            if name == "pwrite" and len(args[1]) > _PAGE:
                real(args[0], args[1][: len(args[1]) // 2], args[2])
                snap("halfway through pwrite")
            return real(*args, **kwargs)

        return call

    for name in ("replace", "pwrite", "fsync", "unlink", "rmdir"):
        monkeypatch.setattr(os, name, killed_before(name, getattr(os, name)))
    try:
        result = run()
    finally:
        monkeypatch.undo()
    # Nothing is killed for real: the run itself must go through, or the snapshots stop
    # where it failed and test less than they claim.
    assert result.exit_code == 0, result.output
    return snapshots


def test_a_carry_forget_killed_at_any_step_leaves_the_old_state_whole_or_gone(
    tmp_path: Path, device: Device, codename_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whoever takes the phone after a `carry --forget` killed midway (a flat battery), with
    the old codename; and the source, running the same command again.

    Before: killed after the new codename's state was saved, both stayed, and the same
    command refused ("already keeps a state here"); killed while the old state was being
    overwritten, it stayed as zeros under its name: the device still showed two codenames,
    and every run of the old one, `forget` included, failed ("damaged: it does not open")."""
    sent = device.run("send", "-m", "first", "--codename-file", str(codename_file))
    assert sent.exit_code == 0, sent.output
    keys = open_state(device.state, codename_file).prekeys
    assert keys
    later = tmp_path / "later"
    later.mkdir()
    new = device.new_codename(later)
    snapshots = _snapshots_of_a_run_killed_at_each_step(
        device,
        monkeypatch,
        lambda: _carry(device, codename_file, new, "--forget"),
        tmp_path / "killed",
    )
    assert len(snapshots) > 5, snapshots
    broken = []
    for step, phone in snapshots:
        try:
            left = open_state(phone, codename_file).prekeys
        except StateError as exc:
            broken.append(f"{step}: the old codename's runs fail: {exc}")
            continue
        if left not in ([], keys):
            broken.append(f"{step}: the old codename's state is half-forgotten")
        others = [p for p in phone.iterdir() if p.is_file() and not p.name.endswith(".json")]
        holding = [p.name for p in others if keys[0] in _keys_at(p, phone, codename_file)]
        if len(holding) > (1 if left else 0):
            broken.append(f"{step}: a leftover still opens its replies: {holding}")
        again = _carry(dataclasses.replace(device, state=phone), codename_file, new, "--forget")
        kept = sorted(p.name for p in phone.glob("*.state"))
        if again.exit_code != 0 or len(kept) != 1:
            broken.append(f"{step}: run again, {again.exit_code}, {kept}: {again.stderr.strip()}")
        elif open_state(phone, codename_file).instance is not None:
            broken.append(f"{step}: run again, the old codename is not forgotten")
    assert broken == [], "\n".join(broken)


def _keys_at(path: Path, root: Path, codename: Path) -> list[HybridPrivateKey]:
    """The reply keys the file at `path` holds, opened as the codename's state (none if it
    does not open)."""
    name = open_state(root, codename).path
    assert name is not None
    aside = root.parent / f"{root.name}-aside"
    shutil.rmtree(aside, ignore_errors=True)
    aside.mkdir()
    shutil.copyfile(root / "device.json", aside / "device.json")
    shutil.copyfile(path, aside / name.name)
    try:
        return open_state(aside, codename).prekeys
    except StateError:
        return []


def test_a_forget_killed_at_any_step_leaves_no_state_without_its_envelopes_nor_them_without_it(
    tmp_path: Path, server: str, authorities: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`forget` of a codename with an unfinished upload, killed at each step, then run again.

    Before: killed while it removed the envelopes, the state stayed whole, naming
    envelopes that were gone ("the state opens, 1 of its envelopes gone"); the state
    removed first, its envelopes would stay with no state to remove them."""
    proxy = CuttingProxy(server)
    try:
        device = Device(tmp_path / "state", proxy.url, authorities)
        codename = _sent_then_cut(device, proxy, tmp_path)
    finally:
        proxy.close()
    assert open_state(device.state, codename).pending is not None
    snapshots = _snapshots_of_a_run_killed_at_each_step(
        device,
        monkeypatch,
        lambda: device.run("forget", "--codename-file", str(codename)),
        tmp_path / "killed",
    )
    broken = []
    for step, phone in snapshots:
        try:
            state = open_state(phone, codename)
        except StateError as exc:
            broken.append(f"{step}: the codename's runs fail: {exc}")
            continue
        if state.pending is not None:
            waiting = state.pending_dir
            gone = [i.name for i in state.pending.items if not (waiting / i.name).is_file()]
            if gone:
                broken.append(f"{step}: the state opens, {len(gone)} of its envelopes gone")
        again = dataclasses.replace(device, state=phone).run(
            "forget", "--codename-file", str(codename)
        )
        left = sorted(p.name for p in phone.glob("*")) if phone.exists() else []
        if again.exit_code != 0 or left:
            broken.append(f"{step}: run again, {again.exit_code}, {left}: {again.stderr.strip()}")
    assert broken == [], "\n".join(broken)
