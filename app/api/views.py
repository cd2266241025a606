"""Views of the submission API: read the request's facts, call one service, answer JSON."""

from __future__ import annotations

from importlib import resources
from typing import Final

from flask import Response, current_app, jsonify, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

from app.api import bp
from app.db import db_session
from app.services import api, resumable
from app.services import keys as keys_service
from crypto.request import body_digest

_METHODS: Final = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
_OFFSET_HEADER: Final = "Upload-Offset"
# Read when `create_app` imports the blueprint, not on a request (app/preload.py says why).
_OPENAPI: Final = resources.files("app.api").joinpath("openapi.json").read_bytes()


def _path() -> str:
    """The path a proof signs: as the client asked for it, mount point included."""
    return request.script_root + request.path


def _proof() -> api.Proof:
    return api.Proof.from_headers(request.headers)


def _json_body() -> bytes:
    """The raw JSON body: the proof covers its bytes, and it is parsed once that verifies."""
    if request.mimetype != "application/json":
        raise api.ApiError(415, "unsupported-media-type", "send the body as application/json")
    return request.get_data(cache=False)


def _facts(data: bytes, offset: int | None = None) -> api.RequestFacts:
    return api.RequestFacts(request.method, _path(), body_digest(data), offset)


@bp.post("/challenges")
def challenges() -> ResponseReturnValue:
    """A one-time challenge for the next authenticated request."""
    return jsonify(api.issue_challenge(db_session()))


@bp.get("/keyring")
def keyring() -> ResponseReturnValue:
    """The signed keyring chain, the pinned authorities and the codename KDF."""
    return jsonify(keys_service.keyring_document())


@bp.post("/sources")
def sources() -> ResponseReturnValue:
    """Create an account from a lookup tag and public keys derived on the source's device."""
    data = _json_body()
    created = api.create_source(db_session(), _proof(), _facts(data), data)
    return jsonify({"created": created}), 201 if created else 200


@bp.post("/uploads")
def uploads() -> ResponseReturnValue:
    """Start uploading one envelope of a declared size and hash."""
    data = _json_body()
    upload = resumable.start(db_session(), _proof(), _facts(data), data)
    location = url_for("api.upload", upload_id=upload.id)
    return jsonify({"upload": upload.id, "offset": 0}), 201, {"Location": location}


@bp.route("/uploads/<upload_id>", methods=["HEAD"])
def upload_status(upload_id: str) -> ResponseReturnValue:
    """How many bytes of an upload have arrived (to resume after a dropped circuit)."""
    progress = resumable.status(db_session(), _proof(), _facts(b""), upload_id)
    return "", 200, {_OFFSET_HEADER: str(progress.offset), "Upload-Length": str(progress.size)}


@bp.patch("/uploads/<upload_id>")
def upload(upload_id: str) -> ResponseReturnValue:
    """Append one chunk at the offset the upload has reached."""
    offset = _offset()
    if request.mimetype != resumable.OFFSET_CONTENT_TYPE:
        raise api.ApiError(
            415, "unsupported-media-type", f"send chunks as {resumable.OFFSET_CONTENT_TYPE}"
        )
    progress = resumable.receive(
        db_session(),
        _proof(),
        (request.method, _path(), offset),
        upload_id,
        request.stream,
        request.content_length,
    )
    return jsonify(progress.to_json()), 200, {_OFFSET_HEADER: str(progress.offset)}


def _offset() -> int:
    text = request.headers.get(_OFFSET_HEADER, "")
    if not text.isascii() or not text.isdigit() or len(text) > 15:
        raise api.bad_request(f"{_OFFSET_HEADER} must be a number of bytes")
    return int(text)


@bp.get("/replies")
def replies() -> ResponseReturnValue:
    """The replies waiting for this source (ids, sizes, days), and its status notice."""
    return jsonify(api.replies_and_notice(db_session(), _proof(), _facts(b"")))


@bp.get("/replies/<reply_id>")
def reply(reply_id: str) -> ResponseReturnValue:
    """One reply envelope, sealed to the source's key: the client opens it."""
    blocks, size = api.find_reply(db_session(), _proof(), _facts(b""), reply_id)
    response = Response(blocks, mimetype="application/octet-stream")
    response.content_length = size
    return response


@bp.delete("/replies/<reply_id>")
def delete_reply(reply_id: str) -> ResponseReturnValue:
    """Delete one of the source's replies from the server, file and row, once read."""
    api.delete_reply(db_session(), _proof(), _facts(b""), reply_id)
    return "", 204


@bp.post("/replies/<reply_id>/unheld")
def unheld_reply(reply_id: str) -> ResponseReturnValue:
    """Take the device's signed word that it cannot open this reply, for the reviewers."""
    data = _json_body()
    api.unheld_reply(db_session(), _proof(), _facts(data), reply_id, data)
    return "", 204


@bp.get("/openapi.json")
def openapi() -> ResponseReturnValue:
    """The OpenAPI document that describes this API."""
    return Response(_OPENAPI, mimetype="application/json")


@bp.route("/", defaults={"rest": ""}, methods=_METHODS, strict_slashes=False)
@bp.route("/<path:rest>", methods=_METHODS)
def unknown(rest: str) -> ResponseReturnValue:
    """Answer paths and methods the API does not have in its own JSON, not the site's HTML."""
    adapter = current_app.url_map.bind_to_environ(request.environ)
    allowed = []
    for method in _METHODS:
        try:
            endpoint, _args = adapter.match(method=method)
        except HTTPException:
            continue
        if endpoint != "api.unknown":
            allowed.append(method)
    if allowed:
        raise MethodNotAllowed(valid_methods=allowed)
    raise NotFound()
