"""A source's device, seized: without the codename it shows that the client is installed.

The attack: take the state directory after `new`, `send` (also one cut short
mid-upload) and `replies`, and look in every file for the instance's address,
the names in its keyring and the upload ids that tie the device to an account
on the server. With `--no-state`, look for anything written at all.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask

from crypto.bundle import hash_file
from submit import sensitive
from submit.cli import cli
from submit.sensitive import on_disk
from submit.state import default_root
from submit.transport import free_port
from tests.app.test_canary import files_under, find
from tests.review.support import Server, init_workspace, review
from tests.submit.support import CuttingProxy, Device, camera_photo, open_state
from tests.submit.test_codenames import _printed_to_file
from tests.submit.test_transport import CODENAME


def own_memory(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Path:
    """A memory-backed directory in /dev/shm the client takes for this test alone: every
    entry in it is the client's (/dev/shm itself the other worker's tests share)."""
    ram = Path(tempfile.mkdtemp(dir="/dev/shm"))
    request.addfinalizer(lambda: shutil.rmtree(ram, ignore_errors=True))
    monkeypatch.setattr(sensitive, "_RAM_DIRS", (str(ram),))
    return ram


def left_in_memory(ram: Path) -> list[str]:
    """What is in the client's memory-backed directory, and anything in /dev/shm named as
    the tool."""
    shm = Path("/dev/shm")
    shared = [f"{shm}/{n}" for n in os.listdir(shm) if n.startswith("raazdar")]
    return sorted([*shared, *os.listdir(ram)])


def tree(root: Path) -> dict[str, tuple[int, int]]:
    """Every path under `root`, with its size and modification time."""
    out = {}
    for directory, dirs, names in os.walk(root):
        for name in [*dirs, *names]:
            path = Path(directory, name)
            info = path.lstat()
            out[str(path.relative_to(root))] = (info.st_size, info.st_mtime_ns)
    return out


def needles_of(device: Device, codename: Path, extra: dict[str, str]) -> dict[str, bytes]:
    """What a seizer looks for: learnt here from the state unsealed with the codename."""
    state = device.state_of(codename)
    assert state.manifest is not None
    manifest = state.manifest.manifest
    host = device.url.removeprefix("http://")
    found = {"url": device.url, "host": host, **extra}
    found |= {f"authority:{a.name}": a.name for a in manifest.authorities}
    found |= {f"reviewer:{r.name}": r.name for r in manifest.recipients}
    found |= {f"fingerprint:{fp}": str(fp).replace(" ", "") for fp in state.authorities}
    return {name: value.encode() for name, value in found.items()}


def seized(device: Device, needles: dict[str, bytes]) -> dict[str, list[str]]:
    return {str(path): hits for path in files_under(device.state) if (hits := find(path, needles))}


def _sent_then_cut(device: Device, proxy: CuttingProxy, tmp_path: Path) -> Path:
    """A new codename's first report sent, then a 900 kB file's upload cut short at 300 kB
    with the server left down: the codename's file (the state now holds a pending upload)."""
    codename = device.new_codename(tmp_path)
    assert not device.state.exists(), "new writes nothing"
    message = tmp_path / "message.txt"
    message.write_text("The SHO at the border post takes money for each family")
    sent = device.run("send", "--message-file", str(message), "--codename-file", str(codename))
    assert sent.exit_code == 0, sent.output
    evidence = tmp_path / "ledger.pdf"
    evidence.write_bytes(secrets.token_bytes(900_000))
    proxy.cut_after(300_000, stay_down=True)
    cut = device.run(
        "send", "--keep-metadata", "--retries", "1", "--codename-file", str(codename), str(evidence)
    )
    assert cut.exit_code == 1, cut.output
    return codename


def test_a_seized_device_holds_no_address_name_or_upload_id_without_the_codename(
    tmp_path: Path, server: str, authorities: list[str]
) -> None:
    proxy = CuttingProxy(server)
    try:
        device = Device(tmp_path / "state", proxy.url, authorities)
        # Cut short mid-upload: the sealed state now holds upload ids and the owner hash.
        codename = _sent_then_cut(device, proxy, tmp_path)
        assert device.state_of(codename).instance == proxy.url
        pending = device.state_of(codename).pending
        assert pending is not None
        (item,) = pending.items
        assert item.upload is not None
        ids = {"upload": item.upload, "submission": pending.submission, "owner": pending.owner}
        needles = needles_of(device, codename, ids)
        assert seized(device, needles) == {}
        # With the server seized too: it keeps, under the account, each upload's declared
        # hash and the bytes it took. The envelope on the phone, hashed, must not name it.
        on_phone = {hash_file(path)[1] for path in device.state.rglob("*.rze")}
        assert len(on_phone) == 1
        assert item.hash not in on_phone, "the phone holds the envelope the server holds part of"

        proxy.down = False
        proxy.cut_after(10**9)
        assert device.run("send", "--resume", "--codename-file", str(codename)).exit_code == 0
        replies = device.run("replies", "--codename-file", str(codename))
        assert replies.exit_code == 0, replies.output
        assert seized(device, needles) == {}
        # What is there: the device's salt, the lock and one sealed state.
        names = sorted(p.name for p in device.state.iterdir())
        assert names == sorted(["device.json", "lock", f"{device.state_of(codename).path.name}"])  # type: ignore[union-attr]
    finally:
        proxy.close()


def test_an_unfinished_upload_on_the_phone_weighs_nothing_the_server_was_told(
    tmp_path: Path, server: str, authorities: list[str]
) -> None:
    """The server keeps each upload's declared size under the account; the phone kept the
    envelope at that very size (Padme: 12 % classes). A seized phone and a seized server
    matched an unfinished upload's sizes to one account without the codename."""
    proxy = CuttingProxy(server)
    try:
        device = Device(tmp_path / "state", proxy.url, authorities)
        codename = _sent_then_cut(device, proxy, tmp_path)
        pending = device.state_of(codename).pending
        assert pending is not None
        declared = {item.size for item in pending.items}
        on_phone = {path.stat().st_size for path in device.state.rglob("*.rze")}
        assert not declared & on_phone, (
            f"the phone keeps the unfinished envelope at the size the server was told: "
            f"{sorted(declared & on_phone)} bytes"
        )
        # A power of two, 1 MiB at least: every report, and any file up to 1 MiB, alike.
        assert all(size >= 1 << 20 and size & (size - 1) == 0 for size in on_phone), on_phone
        proxy.down = False
        proxy.cut_after(10**9)
        resumed = device.run("send", "--resume", "--codename-file", str(codename))
        assert resumed.exit_code == 0, resumed.output
        assert not list(device.state.rglob("*.rze"))
    finally:
        proxy.close()


def test_the_attack_finds_what_an_unsealed_state_would_give_away(
    tmp_path: Path, server: str, authorities: list[str]
) -> None:
    """The search above is not blind: the same needles are found in the state once unsealed."""
    device = Device(tmp_path / "state", server, authorities)
    codename = device.new_codename(tmp_path)
    assert device.run("replies", "--codename-file", str(codename)).exit_code == 0
    needles = needles_of(device, codename, {})
    clear = tmp_path / "unsealed.json"
    clear.write_text(str(device.state_of(codename).to_json()))
    assert {"url", "host"} <= set(find(clear, needles))
    assert any(n.startswith("reviewer:") for n in find(clear, needles))


def test_the_amnesic_mode_writes_nothing_at_all(
    tmp_path: Path,
    server: str,
    authorities: list[str],
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    home = tmp_path / "home"
    (home / "stick").mkdir(parents=True)
    pins = home / "stick" / "pins.txt"
    pins.write_text(f"instance {server}\n" + "".join(f"authority {a}\n" for a in authorities))
    codename = home / "stick" / "codename.txt"
    codename.write_text(CliRunner().invoke(cli, ["new"]).stdout)
    # A phone's photo, cleaned of its GPS and serial in memory: no clean copy on the device.
    evidence = home / "stick" / "IMG_20261203_0915.jpg"
    evidence.write_bytes(camera_photo((640, 480)))
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.chdir(home)
    ram = own_memory(monkeypatch, request)

    def ours() -> list[str]:
        return left_in_memory(ram)

    before, ram_before = tree(home), ours()
    base = ["--no-state", "--pins-file", str(pins), "--direct", "--insecure-test-kdf"]
    sent = CliRunner().invoke(
        cli,
        [*base, "send", "--codename-file", str(codename), str(evidence)],
    )
    assert sent.exit_code == 0, sent.output
    replies = CliRunner().invoke(cli, [*base, "replies", "--codename-file", str(codename)])
    assert replies.exit_code == 0, replies.output
    assert tree(home) == before
    assert ours() == ram_before


def test_no_state_with_a_state_directory_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--no-state", "--state", str(tmp_path), "new"])
    assert result.exit_code == 2
    assert list(tmp_path.iterdir()) == []


def test_pins_go_to_a_file_for_amnesic_use_and_forget_leaves_nothing(
    device: Device, codename_file: Path, tmp_path: Path
) -> None:
    assert device.run("replies", "--codename-file", str(codename_file)).exit_code == 0
    pins = device.run("pins", "--codename-file", str(codename_file))
    assert pins.exit_code == 0, pins.output
    assert f"instance {device.url}" in pins.stdout
    assert pins.stdout.count("authority ") == len(device.authorities)
    carried = tmp_path / "pins.txt"
    carried.write_text(pins.stdout)
    amnesic = CliRunner().invoke(
        cli,
        [
            "--no-state",
            "--pins-file",
            str(carried),
            "--direct",
            "--insecure-test-kdf",
            "replies",
            "--codename-file",
            str(codename_file),
        ],
    )
    assert amnesic.exit_code == 0, amnesic.output
    assert (
        "FIRST USE" not in amnesic.stderr.upper()
    )  # pinned from the file, not trusted on first use
    forgot = device.run("forget", "--codename-file", str(codename_file))
    assert forgot.exit_code == 0, forgot.output
    assert not device.state.exists(), "the last codename forgotten, its directory goes too"
    assert "is removed" in forgot.stderr


def test_forget_of_the_last_codename_leaves_no_state_directory(
    tmp_path: Path, server: str, authorities: list[str]
) -> None:
    # The attack: list the config directory of a phone whose source sent a report and then
    # ran `forget`. The client's directory stayed, with device.json and lock: its name says
    # raazdar-submit ran here, and where the filesystem keeps creation times, theirs date
    # the first use to the nanosecond, whatever `forget` removed.
    config = tmp_path / "config"
    config.mkdir()
    os.utime(config, (1_700_000_000, 1_700_000_000))
    device = Device(config / "raazdar-submit", server, authorities)
    codename = device.new_codename(tmp_path)
    sent = device.run("send", "-m", "the names", "--codename-file", str(codename))
    assert sent.exit_code == 0, sent.output
    os.utime(config, (1_700_000_000, 1_700_000_000))  # the pins file the test writes there
    forgot = device.run("forget", "--codename-file", str(codename))
    assert forgot.exit_code == 0, forgot.output
    left = sorted(p.name for p in config.iterdir() if p.name != "raazdar-submit-pins.txt")
    assert left == [], "left in the config directory"
    assert config.stat().st_mtime == 1_700_000_000, "the config directory dates the forget"


def test_forget_keeps_what_another_codename_needs(
    device: Device, codename_file: Path, tmp_path: Path
) -> None:
    """The device's salt opens the other codenames' states: it goes only with the last."""
    other = tmp_path / "other"
    other.mkdir()
    second = device.new_codename(other)
    for codename in (codename_file, second):
        assert device.run("replies", "--codename-file", str(codename)).exit_code == 0
    forgot = device.run("forget", "--codename-file", str(codename_file))
    assert forgot.exit_code == 0, forgot.output
    # The source is told the device still shows a codename: forgetting one hid not both.
    assert "1 other codename keeps a state here" in " ".join(forgot.stderr.split())
    assert device.state_of(second).instance == device.url
    assert device.run("replies", "--codename-file", str(second)).exit_code == 0


def test_the_state_directory_tells_no_time_of_a_submission(
    tmp_path: Path, server: str, authorities: list[str]
) -> None:
    # The attack: list the state directory of a seized phone. A file's access and
    # modification times would say when the source first used the client, when a
    # report was sealed and when the last one went, to the second.
    proxy = CuttingProxy(server)
    try:
        device = Device(tmp_path / "state", proxy.url, authorities)
        _sent_then_cut(device, proxy, tmp_path)
        # The directory itself first: listing it is an access.
        root = device.state.stat()
        stamps = {str(device.state): (root.st_atime, root.st_mtime)}
        stamps |= {str(p): (p.stat().st_atime, p.stat().st_mtime) for p in device.state.rglob("*")}
        assert any(p.endswith(".rze") for p in stamps), "no envelope left pending"
        assert {path: times for path, times in stamps.items() if times != (0, 0)} == {}
    finally:
        proxy.close()


def test_the_state_file_tells_not_how_many_reports_were_sent(
    device: Device, codename_file: Path
) -> None:
    # The attack: weigh the sealed state of a seized phone. Each report leaves the secrets
    # of four one-time reply keys in it, and a reply read takes one away, so its size,
    # against the instance's public keyring, counted the reports sent from this device.
    assert device.run("replies", "--codename-file", str(codename_file)).exit_code == 0
    path = device.state_of(codename_file).path
    assert path is not None
    sizes = [path.stat().st_size]
    for text in ("one", "two", "three"):
        sent = device.run("send", "-m", text, "--codename-file", str(codename_file))
        assert sent.exit_code == 0, sent.output
        sizes.append(path.stat().st_size)
    assert len(device.state_of(codename_file).prekeys) == 12
    assert len(set(sizes)) == 1, f"the state weighs {sizes} bytes after 0, 1, 2 and 3 reports"


def test_a_full_session_leaves_nothing_outside_the_state_directory(
    tmp_path: Path,
    server: str,
    authorities: list[str],
    app: Flask,
    instance: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    # The attack: after a session (a report with a file sent, replies checked, one read),
    # search the phone's home, the directory the client ran in, the temporary directory
    # and memory-backed /dev/shm for anything it left besides its state directory.
    home, scratch = tmp_path / "home", tmp_path / "tmp"
    (home / "stick").mkdir(parents=True)
    # A phone in use has a config directory, last changed long ago by some other program.
    (home / ".config").mkdir()
    os.utime(home / ".config", (1_700_000_000, 1_700_000_000))
    scratch.mkdir()
    for name, value in (("HOME", home), ("XDG_CONFIG_HOME", home / ".config"), ("TMPDIR", scratch)):
        monkeypatch.setenv(name, str(value))
    monkeypatch.setattr(tempfile, "tempdir", None)
    monkeypatch.chdir(home)
    pins = home / "stick" / "pins.txt"
    pins.write_text(f"instance {server}\n" + "".join(f"authority {a}\n" for a in authorities))
    codename = home / "stick" / "codename.txt"
    codename.write_text(CliRunner().invoke(cli, ["new"]).stdout)
    message = home / "stick" / "message.txt"
    message.write_text("The SHO at the border post takes money for each family")
    evidence = home / "stick" / "IMG_20261203_0915.jpg"
    # A phone's photo, cleaned of its GPS and serial in memory: no clean copy left behind.
    evidence.write_bytes(camera_photo((640, 480)))
    ram = own_memory(monkeypatch, request)

    def in_ram() -> list[str]:
        return left_in_memory(ram)

    before, ram_before = tree(home), in_ram()
    base = ["--fast-kdf", "--pins-file", str(pins), "--direct", "--insecure-test-kdf"]
    run = ["--codename-file", str(codename)]
    sent = CliRunner().invoke(
        cli, [*base, "send", "--message-file", str(message), *run, str(evidence)]
    )
    assert sent.exit_code == 0, sent.output
    assert CliRunner().invoke(cli, [*base, "replies", *run]).exit_code == 0
    served = Server(app, instance)
    workspace = init_workspace(served, tmp_path / "workspace")
    assert review(workspace, "import", str(served.export(tmp_path / "export.rzb"))).exit_code == 0
    text = tmp_path / "reply.txt"
    text.write_text("Which checkpoint?")
    assert review(workspace, "reply", "1", "--file", str(text)).exit_code == 0
    bundle = tmp_path / "replies.rzr"
    assert review(workspace, "export-replies", "--out", str(bundle)).exit_code == 0
    assert served.apply(bundle).replies == 1
    read = CliRunner().invoke(cli, [*base, "replies", *run])
    assert read.exit_code == 0, read.output
    assert "Which checkpoint?" in read.stdout

    # Times first: listing the directory, or opening the state, sets their access times.
    root = default_root()
    own = root.stat()
    stamps = {(own.st_atime, own.st_mtime)} | {
        (p.stat().st_atime, p.stat().st_mtime) for p in root.iterdir()
    }
    assert stamps == {(0, 0)}
    assert home in root.parents
    left = {
        path: times
        for path, times in tree(home).items()
        if path not in before and not (home / path == root or root in (home / path).parents)
    }
    assert left == {}, "written outside the state directory"
    changed = {
        p: (before[p], now) for p, now in tree(home).items() if p in before and now != before[p]
    }
    assert changed == {}, "(size, modification time) before and after the session"
    assert list(scratch.iterdir()) == []
    assert in_ram() == ram_before
    state = open_state(root, codename)
    assert state.path is not None
    names = sorted(p.name for p in root.iterdir())
    assert names == sorted(["device.json", "lock", state.path.name])


def test_what_the_client_read_on_the_device_keeps_its_access_time(
    device: Device, codename_file: Path, tmp_path: Path
) -> None:
    # The attack: list the phone's photos, the stick and the home directory. On a
    # filesystem mounted relatime (most are), the first read after a change, or a
    # day after the last, stamped each file the client read: which photo of the
    # gallery was sent, and when, to the nanosecond; when the codename and the
    # pins were last used.
    evidence = tmp_path / "IMG_20261201_101522.jpg"
    evidence.write_bytes(camera_photo())
    message = tmp_path / "message.txt"
    message.write_text("The SHO at the border post takes money for each family")
    pins = tmp_path / "pins.txt"
    pins.write_text(
        f"instance {device.url}\n" + "".join(f"authority {a}\n" for a in device.authorities)
    )
    read = [evidence, message, codename_file, pins]
    # Last read two days ago, before their last change: relatime stamps the next read.
    for path in read:
        mtime = path.stat().st_mtime
        os.utime(path, (mtime - 2 * 86400, mtime))
    before = {str(p): p.stat().st_atime_ns for p in read}
    options = ["--state", str(device.state), "--fast-kdf", "--pins-file", str(pins)]
    args = ["send", "--message-file", str(message), "--codename-file", str(codename_file)]
    sent = CliRunner().invoke(cli, [*options, *device.transport, *args, str(evidence)])
    assert sent.exit_code == 0, sent.output
    after = {str(p): p.stat().st_atime_ns for p in read}
    assert {p: t for p, t in after.items() if t != before[p]} == {}, "read, and dated"


def test_the_source_is_told_that_the_files_sent_are_still_on_the_device(
    device: Device, codename_file: Path, tmp_path: Path
) -> None:
    # The attack: seize the phone after a send. The photo of the ledger is still in
    # the gallery (and the cloud's copy of it), where the source took it: the client
    # sealed and sent it, and said only "Sent", as if it were gone.
    evidence = tmp_path / "IMG_20261201_101522.jpg"
    evidence.write_bytes(camera_photo())
    sent = device.run(
        "send", "-m", "a report", "--codename-file", str(codename_file), str(evidence)
    )
    assert sent.exit_code == 0, sent.output
    flat = " ".join(sent.stderr.split())
    assert f"{evidence} is still on this device" in flat, flat


def test_a_first_run_that_kept_nothing_leaves_no_trace_of_the_client(tmp_path: Path) -> None:
    """A frightened source's first `send`, with tor not running, fails and is given up on.
    Before: the state directory stayed, with the device's salt and the lock ("['device.json',
    'lock']"): whoever takes the phone learns the client was used, and when (their creation
    times), though nothing was pinned or sent."""
    onion = f"http://{'a' * 56}.onion"
    device = Device(tmp_path / "state", onion, transport=["--socks", f"127.0.0.1:{free_port()}"])
    result = device.run("send", "-m", "first", "--codename-file", "-", pin=False, input=CODENAME)
    assert result.exit_code == 1, result.output
    left = sorted(p.name for p in device.state.iterdir()) if device.state.exists() else []
    assert left == [], f"a run that kept nothing left {left}"


def test_a_send_printed_into_a_file_on_a_disk_is_named_before_anything_is_sealed(
    device: Device, codename_file: Path, tmp_path: Path
) -> None:
    """`send > sent.txt`, to keep a record: "Sent 1 report" in a file on the phone's flash
    says, to whoever takes it, that its owner reported, and stays in the freed blocks once
    the file is removed. On a terminal the line is erased; `new`, `pins` and `replies` name
    such a file. Before: `send` said nothing of it."""
    kept = tmp_path / "sent.txt"
    args = ["send", "-m", "The SHO took money.", "--codename-file", str(codename_file)]
    said = " ".join(_printed_to_file(device.arguments(*args), kept).split())
    assert "Sent 1 report" in kept.read_text()
    # Where the tests' temporary directory is itself in memory, there is nothing to say.
    warned = f"{kept} is on a disk: the line saying a report was sent" in said
    assert warned == on_disk(kept), f"no word of it: {said!r}"


def test_forget_with_a_codename_that_kept_nothing_says_what_is_still_here(
    device: Device, codename_file: Path, tmp_path: Path
) -> None:
    """The attack: a source with two codenames (one made by `new` and never used, an old
    one kept on paper) forgets with the wrong one before a checkpoint. Told "Forgotten:
    this device keeps nothing for that codename now", with status 0, she went on; the
    phone kept the state of the one she used, which opens with the codename she carries."""
    sent = device.run("send", "-m", "the names", "--codename-file", str(codename_file))
    assert sent.exit_code == 0, sent.output
    other = tmp_path / "other"
    other.mkdir()
    unused = device.new_codename(other)
    forgot = device.run("forget", "--codename-file", str(unused))
    said = " ".join(forgot.output.split())
    assert device.state_of(codename_file).instance == device.url, "the other state went"
    assert forgot.exit_code == 1, f"told it was forgotten: {said!r}"
    assert "Forgotten" not in said, said
    assert "kept nothing on this device" in said, said
    assert "1 other codename keeps a state here" in said, said


def test_a_state_directory_given_among_other_files_leaves_their_times_alone(
    tmp_path: Path, server: str, authorities: list[str]
) -> None:
    """`--state /media/stick`, the state on the encrypted stick the docs suggest, where the
    pins file and the photos to send already are. Each run set the times of every file
    there, and of everything below it, to 1970: the photos' own dates were lost, and a
    stick dated 1970 throughout says which tool ran with it."""
    stick = tmp_path / "stick"
    (stick / "DCIM").mkdir(parents=True)
    photo = stick / "DCIM" / "IMG_20261201_101522.jpg"
    photo.write_bytes(camera_photo())
    theirs = [photo, stick / "DCIM"]
    for path in theirs:
        os.utime(path, (1_764_583_000, 1_764_583_000))
    device = Device(stick, server, authorities)
    codename = device.new_codename(tmp_path)
    sent = device.run("send", "-m", "the ledger", "--codename-file", str(codename), str(photo))
    assert sent.exit_code == 0, sent.output
    dated = {str(p.relative_to(stick)): p.stat().st_mtime for p in theirs}
    assert dated == dict.fromkeys(dated, 1_764_583_000), f"dated by the client: {dated}"
    own = device.state_of(codename).path
    assert own is not None
    assert own.stat().st_mtime == 0, "the state itself still tells no time"


def test_a_state_directory_given_among_other_files_removes_none_of_them(
    tmp_path: Path, server: str, authorities: list[str]
) -> None:
    """The same stick: each run swept it of what a killed run leaves, by name alone. A
    folder of the source's named `*.pending` went whole, as envelopes a forgotten codename
    left; a file of hers named `*.state` whose first bytes are zeros, as a state forgotten."""
    stick = tmp_path / "stick"
    (stick / "ledger.pending").mkdir(parents=True)
    (stick / "ledger.pending" / "page-1.jpg").write_bytes(camera_photo())
    (stick / "game.state").write_bytes(bytes(64) + b"saved game")
    device = Device(stick, server, authorities)
    codename = device.new_codename(tmp_path)
    sent = device.run("send", "-m", "the ledger", "--codename-file", str(codename))
    assert sent.exit_code == 0, sent.output
    left = sorted(str(p.relative_to(stick)) for p in stick.rglob("*") if "." in p.name)
    assert {"game.state", "ledger.pending", "ledger.pending/page-1.jpg"} <= set(left), left
