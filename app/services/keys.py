"""What `/keys` publishes: the keyring in force, the chain to it, and the pinned authorities."""

from __future__ import annotations

import json
from typing import Any

from flask import Response, current_app

from app.services.context import services
from crypto.encoding import b64encode


def public_keys() -> dict[str, Any]:
    """Describe the keyring for people: versions, dates, names, fingerprints."""
    state = services().keyring()
    manifest = state.manifest
    info: dict[str, Any] = {
        "available": manifest is not None,
        "pinned": sorted(str(fp) for fp in state.pinned),
    }
    if manifest is not None:
        info.update(
            version=manifest.version,
            issued=manifest.issued.isoformat(),
            expires=manifest.expires.isoformat(),
            threshold=manifest.threshold,
            authorities=[(a.name, str(a.key.fingerprint)) for a in manifest.authorities],
            recipients=[
                (r.name, str(r.encryption_key.fingerprint), str(r.signing_key.fingerprint))
                for r in manifest.recipients
            ],
        )
    return info


def keyring_document() -> dict[str, Any]:
    """Describe the keyring for programs: the whole signed chain and the codename KDF.

    A client verifies the chain itself against authority fingerprints it pinned;
    nothing here is to be trusted because the server says it.
    """
    state = services().keyring()
    return {
        "instance": current_app.config["INSTANCE_ID"],
        "pinned_authorities": sorted(str(fp).replace(" ", "") for fp in state.pinned),
        "manifests": [json.loads(s.to_bytes()) for s in state.chain],
        "in_force": state.manifest.version if state.manifest is not None else None,
        "codename": {
            "salt": b64encode(current_app.config["CODENAME_SALT"]),
            "kdf": current_app.config["CODENAME_KDF"].to_dict(),
        },
        "timestamp": stamp.to_json() if (stamp := services().timestamp()) is not None else None,
        "subkeys": {rid: json.loads(s.to_bytes()) for rid, s in services().subkeys.lists().items()},
    }


def public_keys_json() -> Response:
    """The keyring document of `/keys.json`."""
    body = keyring_document()
    return Response(json.dumps(body, ensure_ascii=False, indent=1), mimetype="application/json")
