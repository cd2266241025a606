"""A seized tor data directory says nothing of when sources came to the onion.

`raazdar serve --tor launch` starts tor with its data directory, and the onion
service's own directory, under the instance (`app.operations.tor.control.Tor.launch`);
`--tor attach` uses the tor deploy/torrc configures, which logs to the journal
(a file here). A seizer reads every file there: the stamps of each, tor's log,
tor's `state`. Sources visit the onion here in a window of a few
seconds, each on a circuit of its own, while tor runs; the copy is taken while
it still runs, and again after it stopped (tor writes its state then).
"""

from __future__ import annotations

import datetime as dt
import re
import time
from pathlib import Path

import pytest

from app.operations.tor.control import Tor
from devnet.private_network import PrivateNetwork
from tests.app.live import live_server
from tests.app.seizure import Seizure, seize
from tests.test_deploy import torrc_options
from tests.tor.test_onion import assert_is_landing_page, get

pytestmark = pytest.mark.tor

VISITS = 4
# What six hours of tor's heartbeat are made here (seconds).
HEARTBEAT = 3
_INTRODUCTIONS = re.compile(r"received (\d+) v3 INTRODUCE2 cells")
# tor's log line: "Dec 05 12:50:01.123 [notice] …" (its time is the host's local time).
_LOG_LINE = re.compile(r"^(\w{3} \d{2} \d{2}:\d{2}:\d{2})(?:\.\d+)? \[(\w+)\] (.*)$", re.M)
# Times tor writes in its state file: "LastWritten 2026-12-05 12:50:01".
_STATE_TIME = re.compile(r"(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})")


# What tor fetches on the directory's schedule (a testing network's consensus comes every
# few minutes), whatever the onion's visitors do: one may land within the visits by chance.
_ON_SCHEDULE = re.compile(r"cached-(microdesc-consensus|consensus|microdescs|certs)(\.new)?")


def _stamped(seized: Seizure, start: int, end: int) -> dict[str, list[str]]:
    """Every path whose stamps (not the access time: noatime) fall within [start, end].

    Not the directory documents tor fetched on its schedule, nor, when one was written
    then, the data directory's own times, which its rename into place moved.
    """
    found: dict[str, list[str]] = {}
    for path, stamps in seized.stamps.items():
        for name, ns in stamps.times().items():
            if name != "atime" and start <= ns // 1_000_000_000 <= end:
                found.setdefault(str(path), []).append(name)
    fetched = {p for p in found if _ON_SCHEDULE.fullmatch(Path(p).name)}
    for document in fetched:
        found.pop(document)
        if not any(Path(p).parent == Path(document).parent for p in found):
            found.pop(str(Path(document).parent), None)
    return found


def _logged(seized: Seizure, start: int, end: int) -> list[str]:
    """Lines of tor's logs stamped within [start, end]."""
    year = dt.datetime.now().year
    lines = []
    for path, data in seized.data.items():
        if path.name.endswith(".log"):
            for stamp, level, text in _LOG_LINE.findall(data.decode(errors="replace")):
                when = dt.datetime.strptime(f"{year} {stamp}", "%Y %b %d %H:%M:%S")
                if start <= when.timestamp() <= end:
                    lines.append(f"{level}: {text}")
    return lines


def _state_times(seized: Seizure, start: int, end: int) -> list[str]:
    """Times within [start, end] written in tor's state file."""
    found = []
    for path, data in seized.data.items():
        if path.name == "state":
            for stamp in _STATE_TIME.findall(data.decode(errors="replace")):
                when = dt.datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S").replace(tzinfo=dt.UTC)
                if start <= when.timestamp() <= end:
                    found.append(stamp)
    return found


def _counted(seized: Seizure) -> list[str]:
    """Lines of tor's logs that count the onion's introductions (its visitors), once any came."""
    return [
        line
        for path, data in seized.data.items()
        if path.name.endswith(".log")
        for line in data.decode(errors="replace").splitlines()
        if (n := _INTRODUCTIONS.search(line)) is not None and int(n.group(1)) > 0
    ]


def _deploy_torrc(data_dir: Path) -> dict[str, str | list[str]]:
    """deploy/torrc's options, its log (to the journal there) sent to a file in `data_dir`.

    Where the torrc says nothing, tor's defaults, not what `Tor.launch` sets.
    """
    defaults = {"HeartbeatPeriod": "6 hours", "LogTimeGranularity": "1 second"}
    return {**defaults, **torrc_options(), "Log": f"notice file {data_dir / 'journal.log'}"}


@pytest.mark.parametrize("deployed", [False, True], ids=["launch", "deploy-torrc"])
def test_a_seized_tor_directory_dates_and_counts_no_visit(
    network: PrivateNetwork, instance: Path, tmp_path: Path, deployed: bool
) -> None:
    """tor's heartbeat counted the onion's introductions in its log.

    Every six hours, by default, to the second: the difference between two lines
    said how many sources came in each quarter of a day, and how many bytes they
    sent. The log of a tor raazdar starts (`--tor launch`) is under the instance;
    deploy/torrc's tor (`--tor attach`) logs to the journal, kept two days. Six
    hours are three seconds here: a heartbeat tor keeps is made to beat that
    often, as any tor on a testing network may.
    """
    tor_dir = tmp_path / "tor"
    tor_dir.mkdir(mode=0o700)
    data = tor_dir / "data"
    options = {**(_deploy_torrc(data) if deployed else {}), **network.join_config()}
    env = {} if deployed else {"RAAZDAR_TOR_CIRCUITS": "1"}
    with live_server(instance, env=env) as server:
        # As `raazdar serve` starts it, or deploy/torrc has it; the onion's key beside it.
        tor = Tor.launch(data, extra=options)
        if tor.controller.get_conf("HeartbeatPeriod") != "0":
            tor.close()  # its first beat is a period after the start: started again
            tor = Tor.launch(data, extra={**options, "HeartbeatPeriod": f"{HEARTBEAT} seconds"})
        try:
            target, key = server.removeprefix("http://"), tor_dir / "source-onion.key"
            if deployed:
                address = tor.publish(key, target)  # ADD_ONION, as `--tor attach` does
            else:
                [address] = tor.publish_naming_circuits([(key, tor_dir / "service")], target)
            network.wait_published(tor, address, timeout=60)
            assert_is_landing_page(get(network, f"http://{address}/"))
            time.sleep(1.1)
            start = int(time.time())
            for _ in range(VISITS):
                network.new_identity()  # each source on circuits of its own
                assert_is_landing_page(get(network, f"http://{address}/"))
            end = int(time.time())
            time.sleep(HEARTBEAT + 1.5)
            running = seize(tor_dir, skip=())
        finally:
            tor.close()
    stopped = seize(tor_dir, skip=())

    for seized in (running, stopped):
        assert not _counted(seized), f"tor's log counts the visits: {_counted(seized)}"
        assert not _stamped(seized, start, end), _stamped(seized, start, end)
        assert not _logged(seized, start, end), _logged(seized, start, end)
        assert not _state_times(seized, start, end), _state_times(seized, start, end)
