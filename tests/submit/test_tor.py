"""Over the private Tor network: the client reaches the onion service through tor and submits.

Only the private loopback network of tests/tor/conftest.py is used: every tor,
the one the client starts included, names the private authority, so none can
reach the public Tor network.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import pytest

from devnet.private_network import PrivateNetwork
from tests.app.live import stored_envelopes
from tests.app.support import demo_authorities, envelope_files
from tests.submit.support import Device
from tests.tor.conftest import Service, instance, network, server, service  # noqa: F401
from tests.tor.test_onion import get

pytestmark = pytest.mark.tor


def pins(instance: Path) -> list[str]:  # noqa: F811 - the tor tier's instance fixture
    return [str(key.verify_key.fingerprint) for key in demo_authorities(instance)]


def test_a_report_sent_through_tors_socks_port_arrives_sealed(
    network: PrivateNetwork,  # noqa: F811
    service: Service,  # noqa: F811
    instance: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    # The client tor may still be fetching the onion's descriptor: wait for it first.
    assert get(network, f"{service.url}/api/v1/keyring").status_code == 200
    device = Device(
        tmp_path / "state",
        service.url,
        pins(instance),
        transport=["--socks", f"127.0.0.1:{network.socks_port}", "--insecure-test-kdf"],
    )
    codename = device.new_codename(tmp_path)
    message = f"Sent through Tor, sealed on the device. {secrets.token_hex(8)}"
    evidence = tmp_path / "photo.jpg"
    evidence.write_bytes(secrets.token_bytes(200 * 1024))
    known = {p.name for p in envelope_files(instance)}
    # Random bytes: no file the client could clean, so sent exactly as they are.
    args = ["-m", message, "--keep-metadata", "--codename-file", str(codename), str(evidence)]
    result = device.run("send", *args)
    assert result.exit_code == 0, result.output
    new = {p.name for p in envelope_files(instance)} - known
    assert len(new) == 2
    reports = [
        json.loads(e.plaintext)["message"]
        for e in stored_envelopes(instance)
        if e.metadata.kind == "report"
    ]
    assert message in reports
    files = [e.plaintext for e in stored_envelopes(instance) if e.metadata.filename == "photo.jpg"]
    assert evidence.read_bytes() in files


def test_the_client_starts_its_own_tor_and_submits_through_it(
    network: PrivateNetwork,  # noqa: F811
    service: Service,  # noqa: F811
    instance: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    assert get(network, f"{service.url}/api/v1/keyring").status_code == 200
    torrc = tmp_path / "torrc"
    lines = []
    for key, value in network.join_config().items():
        for one in value if isinstance(value, list) else [value]:
            lines.append(f"{key} {one}")
    torrc.write_text("\n".join(lines) + "\n")
    device = Device(
        tmp_path / "state",
        service.url,
        pins(instance),
        transport=["--launch-tor", "--tor-config", str(torrc), "--insecure-test-kdf"],
    )
    codename = device.new_codename(tmp_path)
    message = f"Through a tor of the client's own. {secrets.token_hex(8)}"
    result = device.run("send", "-m", message, "--codename-file", str(codename))
    assert result.exit_code == 0, result.output
    assert "starting tor" in result.stderr
    reports = [
        json.loads(e.plaintext)["message"]
        for e in stored_envelopes(instance)
        if e.metadata.kind == "report"
    ]
    assert message in reports
    # Its guards and consensus stay with the state, for the next run.
    assert (tmp_path / "state" / "tor").is_dir()


def test_a_phishing_onion_serving_the_real_keyring_is_refused(
    network: PrivateNetwork,  # noqa: F811
    service: Service,  # noqa: F811
    instance: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    # Another onion in front of the very same server: chain, signatures and
    # timestamp are all genuine, only the address is not the instance's.
    phishing = service.tor.publish(tmp_path / "phishing.key", service.target, pow_defence=False)
    try:
        network.wait_published(service.tor, phishing, timeout=60)
        assert get(network, f"http://{phishing}/api/v1/keyring").status_code == 200
        device = Device(
            tmp_path / "state",
            f"http://{phishing}",
            pins(instance),
            transport=["--socks", f"127.0.0.1:{network.socks_port}", "--insecure-test-kdf"],
        )
        codename = device.new_codename(tmp_path)
        known = set((instance / "store").glob("*.rze"))
        result = device.run("send", "-m", "for the real instance", "--codename-file", str(codename))
        assert result.exit_code == 1
        assert f"{phishing} is not an address of this instance" in result.stderr
        assert set((instance / "store").glob("*.rze")) == known
    finally:
        service.tor.withdraw(phishing)
