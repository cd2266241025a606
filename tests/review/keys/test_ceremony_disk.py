"""A key ceremony that fails and the seized disk's blocks: the key files it made are not there.

The attack: `keys authority-init` writes each holder's key file, then the
keyring; when a step after the first file fails (the keyring's name is taken, the
disk fills), the files already written were unlinked as they were, and the
filesystem frees their blocks without overwriting them. A seizer who reads the
disk's blocks (not its files) finds every authority key file, each as strong as
the passphrase its holder will likely type again at the next attempt.

The ceremony writes on an ext4 image of its own (tests/app/operations/test_journal.py's).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from crypto import KdfParams
from review.keys import ceremony
from review.keys.ceremony import CeremonyError
from tests.app.operations.test_journal import ext4  # noqa: F401 - the fixture
from tests.review.keys.test_keys_hybrid import ALICE, PW, TODAY

HOLDER = "Holder Canary Zarghuna"


def test_a_failed_ceremonys_key_files_are_not_in_the_disks_blocks(
    ext4: tuple[Path, Path],  # noqa: F811 - the fixture imported above
) -> None:
    image, mount = ext4
    out = mount / "ceremony"
    out.mkdir()
    (out / "keyring-v1.json").write_text("taken")  # the last step fails
    with pytest.raises(CeremonyError, match="already exists"):
        ceremony.authority_init(
            out,
            [HOLDER, "Second Holder"],
            [PW, PW],
            threshold=2,
            recipients=[ceremony.recipient("alice", "Alice", ALICE)],
            today=TODAY,
            kdf=KdfParams.TESTING,
        )
    assert sorted(p.name for p in out.iterdir()) == ["keyring-v1.json"]  # removed, as before
    os.sync()
    assert HOLDER.encode() not in image.read_bytes(), "a key file is in the disk's freed blocks"
