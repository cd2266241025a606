"""Workspaces made once per test process, server and day, then copied.

Creating a workspace (`init`, then `keys subkeys adopt`) writes its schema and first rows
with every sync the tool makes: some tenths of a second of waiting on the disk, and
some six hundred tests start from one. A copy of the directory gives each test the same
fresh workspace for a few milliseconds. What `init` reads is the key of a template:
the server's instance id and signing key, the reviewer's key file and the weekly subkey
files it adopts, and the day (the roster dates each reviewer's enrolment). So a copy is
the workspace `init` would have made for the test, but for what `init` draws at random
(the workspace key, the stored key file's name) and the second its audit entries were
written: the copies of one process share those. The server is left as `init_workspace`
leaves it too: `adopt` destroys the subkey secrets it took in, and so does a copy. A test
that needs a workspace of its own (two compared, one on another disk) calls
`init_workspace` itself.
"""

from __future__ import annotations

import atexit
import datetime as dt
import hashlib
import shutil
import tempfile
from pathlib import Path

from app.demo import DEMO_REVIEWER, subkeys_paths
from review.workspace.erase import destroy
from tests.review.support import Server, init_workspace

# What `init` reads from the server, and the day -> the template workspace's directory.
_TEMPLATES: dict[tuple[str, ...], Path] = {}
_PLACE: list[Path] = []


def copy_of_workspace(server: Server, root: Path) -> Path:
    """Put at the new `root` a workspace pinned to `server`, with the demo reviewer enrolled.

    The same as `init_workspace(server, root)` gives, made once for what it reads and copied.
    """
    key = _inputs(server)
    if key not in _TEMPLATES:
        _TEMPLATES[key] = _make_template(server)
    # copy2 keeps each file's mode and its access and modification times, as `init` left them.
    shutil.copytree(_TEMPLATES[key], root, symlinks=True)
    # `keys subkeys adopt` destroys the secrets it took in (review/cli/subkeys.py): a test
    # that looks for them on the server must find them gone, as after `init_workspace`
    # (the template's own `adopt` destroyed those of the server it was made from).
    _, sealed = subkeys_paths(server.paths.demo_keys, DEMO_REVIEWER)
    if sealed.exists():
        destroy(sealed)
    return root


def _inputs(server: Server) -> tuple[str, ...]:
    """Everything `init_workspace` reads from the server, and the day it is made."""
    listed, sealed = subkeys_paths(server.paths.demo_keys, DEMO_REVIEWER)
    files = [server.reviewer_key_file, listed, sealed]
    digests = [hashlib.sha256(f.read_bytes()).hexdigest() if f.exists() else "-" for f in files]
    return (server.instance_id, server.signing_key_text, *digests, dt.date.today().isoformat())


def _make_template(server: Server) -> Path:
    """Make one template workspace, where no test writes."""
    if not _PLACE:
        _PLACE.append(Path(tempfile.mkdtemp(prefix="rz-workspaces-")))
        atexit.register(shutil.rmtree, _PLACE[0], True)
    return init_workspace(server, _PLACE[0] / str(len(_TEMPLATES)))
