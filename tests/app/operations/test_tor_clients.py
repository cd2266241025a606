"""The staff onion is published with exactly the authorised devices, and never open to all."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import pytest
import stem.response

from app.operations.tor.clients import StaffClients, StaffOnion
from app.operations.tor.control import MAX_STREAMS, Tor, TorError
from crypto.onion import OnionServiceKey

TARGET = "127.0.0.1:8081"


class FakeTor:
    """Records what would be sent to tor; publishes under the key file's address."""

    def __init__(self, clients: StaffClients) -> None:
        self.clients = clients
        self.calls: list[tuple[str, Any]] = []
        # Whether each publication asked for tor's proof-of-work defence.
        self.pow: list[bool] = []

    def publish(
        self, key_file: Path, target: str, *, client_keys: Any = (), pow_defence: bool = True
    ) -> str:
        assert key_file == self.clients.key_file
        assert target == TARGET
        self.calls.append(("publish", sorted(client_keys)))
        self.pow.append(pow_defence)
        address = self.clients.address()
        assert address is not None
        return address

    def withdraw(self, address: str) -> None:
        self.calls.append(("withdraw", address))


@pytest.fixture
def clients(tmp_path: Path) -> StaffClients:
    return StaffClients(tmp_path / "tor")


@pytest.fixture
def tor(clients: StaffClients) -> FakeTor:
    return FakeTor(clients)


@pytest.fixture
def staff(tor: FakeTor, clients: StaffClients) -> StaffOnion:
    return StaffOnion(cast(Tor, tor), clients, TARGET)


def test_without_devices_nothing_is_published(staff: StaffOnion, tor: FakeTor) -> None:
    assert staff.refresh() is False
    assert staff.address is None
    assert tor.calls == []


def test_devices_are_published_with_their_keys_and_unchanged_ones_left_alone(
    staff: StaffOnion, tor: FakeTor, clients: StaffClients
) -> None:
    alice = clients.add("alice")
    bob = clients.add("bob")
    assert staff.refresh() is True
    assert staff.address == alice.address == bob.address
    assert staff.published_for == ("alice", "bob")
    assert tor.calls == [("publish", sorted([alice.key.public_b32, bob.key.public_b32]))]
    assert staff.refresh() is False
    assert len(tor.calls) == 1


def test_the_staff_onion_asks_for_tors_proof_of_work_defence(
    staff: StaffOnion, tor: FakeTor, clients: StaffClients
) -> None:
    """Whoever holds one device's key reads the descriptor's introduction points, and can
    send each staff login on a new circuit: each is one the staff's slot never served, first
    come, first served against a staff member's (`kdf_pool.staff_slot`). Under such a flood
    tor makes each new introduction pay in work, as it does on the source onion."""
    clients.add("alice")
    assert staff.refresh() is True
    assert tor.pow == [True]


def test_revoking_a_device_republishes_without_it_under_the_same_address(
    staff: StaffOnion, tor: FakeTor, clients: StaffClients
) -> None:
    clients.add("alice")
    bob = clients.add("bob")
    staff.refresh()
    address = staff.address
    clients.remove("alice")
    assert staff.refresh() is True
    assert tor.calls[1:] == [("withdraw", address), ("publish", [bob.key.public_b32])]
    assert staff.address == address
    assert staff.published_for == ("bob",)


def test_revoking_the_last_device_withdraws_the_staff_onion(
    staff: StaffOnion, tor: FakeTor, clients: StaffClients
) -> None:
    clients.add("alice")
    staff.refresh()
    address = staff.address
    clients.remove("alice")
    assert staff.refresh() is True
    assert tor.calls[-1] == ("withdraw", address)
    assert staff.address is None


def test_a_damaged_key_file_is_left_out(
    staff: StaffOnion, tor: FakeTor, clients: StaffClients
) -> None:
    alice = clients.add("alice")
    (clients.directory / "eve.pub").write_text("descriptor:x25519:AAAA\nDEL_ONION x\n")
    staff.refresh()
    assert tor.calls == [("publish", [alice.key.public_b32])]
    assert len(staff.problems) == 1


def test_only_a_damaged_key_file_publishes_nothing(
    staff: StaffOnion, tor: FakeTor, clients: StaffClients
) -> None:
    clients.directory.mkdir(parents=True)
    (clients.directory / "eve.pub").write_text("garbage\n")
    staff.refresh()
    assert staff.address is None
    assert tor.calls == []


@pytest.mark.parametrize(
    ("key_spec", "target", "client_keys"),
    [
        ("ED25519-V3:AAAA\r\nDEL_ONION x", TARGET, []),
        (None, "0.0.0.0:8081", []),
        (None, "127.0.0.1:8081 Flags=Detach", []),
        (None, TARGET, ["A" * 52 + " Flags=Detach"]),
        (None, TARGET, ["a" * 52]),
    ],
)
def test_publish_refuses_what_could_smuggle_words_to_tor(
    tmp_path: Path, key_spec: str | None, target: str, client_keys: list[str]
) -> None:
    class Controller:
        def add_event_listener(self, *args: Any) -> None:
            pass

        def msg(self, line: str) -> Any:
            raise AssertionError(f"sent to tor: {line!r}")

    key_file = tmp_path / "onion.key"
    key_file.write_text(key_spec or "ED25519-V3:" + "A" * 86 + "==")
    with pytest.raises(TorError):
        Tor(Controller()).publish(key_file, target, client_keys=client_keys, pow_defence=False)


def test_onions_that_name_circuits_are_only_configured_in_a_tor_of_our_own(
    tmp_path: Path,
) -> None:
    """SETCONF replaces every configured onion of the tor it goes to: never an attached one."""

    class Controller:
        def add_event_listener(self, *_args: Any) -> None:
            pass

        def set_options(self, *_args: Any) -> None:
            raise AssertionError("an attached tor was sent SETCONF")

    attached = Tor(cast(Any, Controller()))
    with pytest.raises(TorError, match="only a tor raazdar started"):
        attached.publish_naming_circuits([(tmp_path / "k.key", tmp_path / "svc")], TARGET)
    assert not (tmp_path / "k.key").exists()


def test_the_service_directory_gets_the_key_in_tors_form(tmp_path: Path) -> None:
    sent: list[Any] = []

    class Controller:
        def add_event_listener(self, *_args: Any) -> None:
            pass

        def set_options(self, options: Any) -> None:
            sent.append(list(options))

        def get_info(self, *_args: Any) -> str:
            return "HiddenServicePoWDefensesEnabled"

    tor = Tor(cast(Any, Controller()), process=object())
    key_file, service = tmp_path / "source-onion.key", tmp_path / "svc"
    [address] = tor.publish_naming_circuits([(key_file, service)], TARGET)
    key = OnionServiceKey.from_tor(key_file.read_text())
    assert address == key.address
    assert (service / "hs_ed25519_secret_key").read_bytes() == key.to_tor_file()
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert service.stat().st_mode & 0o777 == 0o700
    assert (service / "hs_ed25519_secret_key").stat().st_mode & 0o777 == 0o600
    assert sent == [
        [
            ("HiddenServiceDir", str(service)),
            ("HiddenServicePort", f"80 {TARGET}"),
            ("HiddenServiceExportCircuitID", "haproxy"),
            ("HiddenServiceMaxStreams", str(MAX_STREAMS)),
            ("HiddenServiceMaxStreamsCloseCircuit", "1"),
            ("HiddenServicePoWDefensesEnabled", "1"),
        ]
    ]
    assert tor.pow_enabled
    # Published again: the same address; a replaced key file replaces tor's copy.
    (service / "hostname").write_text("stale\n")
    assert tor.publish_naming_circuits([(key_file, service)], TARGET) == [address]
    assert (service / "hostname").exists()
    other = OnionServiceKey.generate()
    key_file.write_text(other.to_tor() + "\n")
    assert tor.publish_naming_circuits([(key_file, service)], TARGET) == [other.address]
    assert (service / "hs_ed25519_secret_key").read_bytes() == other.to_tor_file()
    assert not (service / "hostname").exists()


@pytest.mark.parametrize("client_keys", [[], ["A" * 52]])
def test_every_published_onion_tears_down_a_circuit_of_too_many_streams(
    tmp_path: Path, client_keys: list[str]
) -> None:
    """An attached tor names no circuits: tor's own bound is all that stops one circuit's flood."""
    sent: list[str] = []

    class Reply:
        def is_ok(self) -> bool:
            return True

        def __str__(self) -> str:
            return "ServiceID=" + "a" * 56

    class Controller:
        def add_event_listener(self, *_args: Any) -> None:
            pass

        def msg(self, line: str) -> Any:
            sent.append(line)
            return Reply()

    key_file = tmp_path / "onion.key"
    key_file.write_text("ED25519-V3:" + "A" * 86 + "==")
    Tor(cast(Any, Controller())).publish(
        key_file, TARGET, client_keys=client_keys, pow_defence=False
    )
    [line] = sent
    words = line.split(" ")
    assert f"MaxStreams={MAX_STREAMS}" in words
    [flags] = [w.removeprefix("Flags=").split(",") for w in words if w.startswith("Flags=")]
    assert "MaxStreamsCloseCircuit" in flags
    assert ("V3Auth" in flags) == bool(client_keys)


@pytest.mark.parametrize(
    ("pow_answer", "published"),
    [("512 Unrecognized option", True), ("550 Onion address collision", False)],
)
def test_a_refused_proof_of_work_onion_is_retried_only_when_tor_did_not_know_the_option(
    tmp_path: Path, pow_answer: str, published: bool
) -> None:
    """tor's real replies (stem's ControlMessage has no `code`): a refusal of the onion
    itself, such as an address another instance already publishes, read the reply's `code`
    and crashed `serve` with an AttributeError instead of saying what tor refused."""
    sent: list[str] = []

    class Controller:
        def add_event_listener(self, *_args: Any) -> None:
            pass

        def get_info(self, *_args: Any) -> str:
            return "HiddenServicePoWDefensesEnabled"

        def msg(self, line: str) -> Any:
            sent.append(line)
            if "PoWDefensesEnabled" in line:
                return stem.response.ControlMessage.from_str(f"{pow_answer}\r\n")
            return stem.response.ControlMessage.from_str(f"250-ServiceID={'a' * 56}\r\n250 OK\r\n")

    key_file = tmp_path / "onion.key"
    key_file.write_text("ED25519-V3:" + "A" * 86 + "==")
    tor = Tor(cast(Any, Controller()))
    if published:
        assert tor.publish(key_file, TARGET, pow_defence=True) == "a" * 56 + ".onion"
        assert len(sent) == 2
        assert not tor.pow_enabled
    else:
        with pytest.raises(TorError, match="Onion address collision"):
            tor.publish(key_file, TARGET, pow_defence=True)
        assert len(sent) == 1
