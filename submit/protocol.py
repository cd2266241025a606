"""The submission API, spoken by the source's device (docs/PROTOCOL.md §16).

Every request that needs an account is signed with the Ed25519 key derived from
the codename, over a one-time challenge, the method, the path (mount point
included), the upload offset and a digest of the body. Nothing secret crosses
the wire: the server gets the lookup tag, public keys, and ciphertext.
"""

from __future__ import annotations

import contextlib
import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlsplit

import requests
import urllib3

from crypto import SourceKeys
from crypto.binding import UnheldPrekey
from crypto.encoding import b64encode
from crypto.request import body_digest, sign_request
from submit.errors import ServerError, TransportError
from submit.transport import Exchange

API: Final = "/api/v1"
OFFSET_CONTENT_TYPE: Final = "application/offset+octet-stream"
HEADER_SOURCE: Final = "Raazdar-Source"
HEADER_CHALLENGE: Final = "Raazdar-Challenge"
HEADER_SIGNATURE: Final = "Raazdar-Signature"
HEADER_NEXT: Final = "Raazdar-Next-Challenge"
HEADER_OFFSET: Final = "Upload-Offset"
HEADER_LENGTH: Final = "Upload-Length"
# Challenges live five minutes on the server; one older than this is not worth a 401.
CHALLENGE_FRESH_FOR: Final = 240.0
MAX_JSON_BYTES: Final = 4 * 1024 * 1024
MAX_REPLY_BYTES: Final = 64 * 1024 * 1024
# A run fetches at most this many of the replies listed, the newest, whose listed sizes
# add up to at most MAX_REPLY_BYTES: the server decides how many it lists, and each
# costs the phone a round trip over tor, its bytes, and a place on the screen.
MAX_REPLIES: Final = 100
# Each read may take the read timeout; a server trickling bytes within it must not hold
# the client for hours: a whole exchange, the answer's head and body, is over within this
# (`transport.Exchange`), and a request's body adds its time at the least rate below.
ANSWER_DEADLINE: float = 600.0
# A run of many exchanges (`replies`: a listing, then up to MAX_REPLIES fetches) is over
# within this many answers' deadlines (`Api.within`): a server answering each just within
# its own deadline must not hold a phone on tor for a hundred of them.
RUN_ANSWERS: Final = 3
# A send (every challenge, start and chunk of its uploads, and their retries) is over
# within this many answers' deadlines and its bytes' time at SEND_MIN_RATE: a server
# answering each just within its own deadline must not hold a phone on tor for hours.
# Past it the run stops; what was sealed is kept for `send --resume`, which goes on from
# what the server holds. 2000 B/s is far below tor's rate on a phone.
SEND_ANSWERS: Final = 2
SEND_MIN_RATE: float = 2000.0
# Before a run's bound (`Api.within`) is set, its first exchanges (the keyring, a challenge,
# the account) are over within this many answers' deadlines in all, and the time they took
# counts against that bound: a send or a replies run is bounded from its first request.
SETUP_ANSWERS: Final = min(SEND_ANSWERS, RUN_ANSWERS)
# The rate below which the server itself gives up on a body (app/worker_reads.py's BODY_MIN_RATE).
UPLOAD_MIN_RATE: Final = 500.0
_SLICE: Final = 64 * 1024
# The most of a refusal's message that is shown: the server's own are a line or two.
MAX_MESSAGE_CHARS: Final = 300
# The day a reply arrived is printed to the source: nothing but a date may reach the terminal.
_DAY: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

# The web page takes the codename itself, which this client never sends: a seized server
# refusing the account must not be able to send the source there without the risk named.
BROWSER_HINT: Final = (
    "only if you made this codename in Tor Browser and never used it with raazdar-submit, "
    "log in there once, then retry; otherwise do not type it into the instance's web page: "
    "the server would get your codename there"
)

_TOO_LONG: Final = "the instance took too long to answer"
_TOO_LONG_HINT: Final = "try again later, or over another circuit"

Timeout = tuple[float, float]


@dataclass(frozen=True)
class Progress:
    """Where an upload stands, as the server says."""

    offset: int
    size: int
    item: str | None


@dataclass(frozen=True)
class ReplyInfo:
    """One reply waiting on the server: its id, size and the day it arrived."""

    id: str
    size: int
    day: str


# The status notices reply bundles set (review/casework/triage.py's NOTICES), and what each
# tells the source; the server's word for any other is not shown.
NOTICES: Final = {
    "received": "your report was received",
    "under-review": "the reviewers are looking into it",
    "needs-info": "the reviewers need more from you: send it with `raazdar-submit send`",
    "closed": "the reviewers have closed it",
}


@dataclass(frozen=True)
class Waiting:
    """The replies a run fetches (the newest, each once, oldest first), and how many it leaves."""

    replies: list[ReplyInfo]
    left_out: int
    # The status notice the reviewers set, if it is one of NOTICES.
    notice: str | None = None


class _Body:
    """A chunk handed to requests piece by piece, with a length, to report upload progress."""

    def __init__(self, data: bytes, on_sent: Callable[[int], None] | None) -> None:
        self._data = data
        self._on_sent = on_sent

    def __len__(self) -> int:
        return len(self._data)

    def __iter__(self) -> Iterator[bytes]:
        view = memoryview(self._data)
        for start in range(0, len(view), _SLICE):
            yield bytes(view[start : start + _SLICE])
            if self._on_sent is not None:
                self._on_sent(min(start + _SLICE, len(view)))


class Api:
    """One conversation with an instance's API: it holds the next challenge between requests."""

    def __init__(self, http: requests.Session, base_url: str, *, timeout: Timeout) -> None:
        parts = urlsplit(base_url)
        self._origin = f"{parts.scheme}://{parts.netloc}"
        self._prefix = parts.path.rstrip("/") + API
        self._http = http
        self._timeout = timeout
        self._challenge: tuple[str, float] | None = None
        self._exchange: Exchange | None = None
        self._run_ends: float | None = None
        # What the exchanges before `within` took, and when the one under way began.
        self._spent = 0.0
        self._began: float | None = None

    @contextlib.contextmanager
    def within(self, answers: float = RUN_ANSWERS, *, body_bytes: int = 0) -> Iterator[None]:
        """Within the block, every exchange ends by `answers` answers' deadlines from now,
        and the time `body_bytes` take at SEND_MIN_RATE, less what the exchanges before
        it took (the keyring's, the account's): the run is bounded from its first request."""
        seconds = answers * ANSWER_DEADLINE + body_bytes / SEND_MIN_RATE - self._spent
        self._run_ends = time.monotonic() + seconds
        try:
            yield
        finally:
            self._run_ends = None

    @property
    def run_over(self) -> bool:
        """Whether the run `within` bounds has passed its deadline (no exchange can start)."""
        return self._run_ends is not None and time.monotonic() >= self._run_ends

    # -- requests ---------------------------------------------------------------

    def _path(self, rest: str) -> str:
        return self._prefix + rest

    def _request(
        self,
        method: str,
        path: str,
        *,
        data: bytes | _Body = b"",
        headers: dict[str, str] | None = None,
    ) -> requests.Response:
        # The whole exchange, from the first byte sent to the last read, has its deadline;
        # an upload's has the time the server itself allows a body at its slowest.
        self._finish()
        seconds = ANSWER_DEADLINE + len(data) / UPLOAD_MIN_RATE
        ends = self._run_ends
        if ends is None:
            ends = time.monotonic() + SETUP_ANSWERS * ANSWER_DEADLINE - self._spent
        seconds = min(seconds, ends - time.monotonic())
        if seconds <= 0:
            raise TransportError(_TOO_LONG, hint=_TOO_LONG_HINT)
        self._began = None if self._run_ends is not None else time.monotonic()
        self._exchange = Exchange(seconds)
        try:
            with self._exchange.watching():
                return self._http.request(
                    method,
                    self._origin + path,
                    data=data if len(data) else None,
                    headers=headers,
                    timeout=self._timeout,
                    allow_redirects=False,
                    # Bodies are read by `_read` only, never taken in whole first.
                    stream=True,
                )
        except requests.RequestException as exc:
            # The answer, and the next challenge in it, are lost.
            self._challenge = None
            raise self._lost(
                exc, hint="check that tor is running and the instance's address is right"
            ) from exc

    def _finish(self, response: requests.Response | None = None) -> None:
        """Close the answer, and end the exchange's deadline."""
        if response is not None:
            response.close()
        if self._exchange is not None:
            self._exchange.close()
        if self._began is not None:
            self._spent += time.monotonic() - self._began
            self._began = None

    def _lost(self, exc: Exception, hint: str | None = None) -> TransportError:
        """The error for a connection that failed: the deadline's, if it was what shut it."""
        self._finish()
        if self._exchange is not None and self._exchange.expired:
            return TransportError(_TOO_LONG, hint=_TOO_LONG_HINT)
        return TransportError(
            f"the connection to the instance failed ({type(exc).__name__})", hint=hint
        )

    def _signed(
        self,
        method: str,
        path: str,
        keys: SourceKeys,
        *,
        body: bytes = b"",
        content_type: str | None = None,
        offset: int | None = None,
        on_sent: Callable[[int], None] | None = None,
    ) -> requests.Response:
        challenge = self._take_challenge()
        headers = {
            HEADER_SOURCE: b64encode(keys.lookup_tag),
            HEADER_CHALLENGE: challenge,
            HEADER_SIGNATURE: sign_request(
                keys.signing_key, challenge, method, path, body_digest(body), offset
            ),
        }
        if content_type is not None:
            headers["Content-Type"] = content_type
        if offset is not None:
            headers[HEADER_OFFSET] = str(offset)
        data: bytes | _Body = _Body(body, on_sent) if on_sent is not None and body else body
        response = self._request(method, path, data=data, headers=headers)
        following = response.headers.get(HEADER_NEXT)
        self._challenge = (following, time.monotonic()) if following else None
        return response

    def _take_challenge(self) -> str:
        held, self._challenge = self._challenge, None
        if held is not None and time.monotonic() - held[1] < CHALLENGE_FRESH_FOR:
            return held[0]
        response = self._request("POST", self._path("/challenges"))
        token = self._json(response, {200}).get("challenge")
        if not isinstance(token, str) or not token:
            raise ServerError(response.status_code, "bad-answer", "the server sent no challenge")
        return token

    # -- the API ------------------------------------------------------------------

    def keyring(self) -> Any:
        """The keyring document, untrusted until `trust.verify` says otherwise."""
        return self._json(self._request("GET", self._path("/keyring")), {200})

    def ensure_account(self, keys: SourceKeys) -> bool:
        """Create the account for these derived keys if there is none; True if it was created."""
        body = _encode(
            {
                "lookup_tag": b64encode(keys.lookup_tag),
                "public_key": keys.public_key.to_text(),
                "signing_key": keys.verify_key.to_text(),
            }
        )
        response = self._signed(
            "POST", self._path("/sources"), keys, body=body, content_type="application/json"
        )
        if response.status_code == 409:
            raise self._error(response, hint=BROWSER_HINT)
        created = self._json(response, {200, 201}).get("created")
        return created is True

    def start_upload(
        self, keys: SourceKeys, *, size: int, digest: bytes, kind: str, submission: str
    ) -> str:
        """Declare one envelope; return the upload's id."""
        body = _encode(
            {"size": size, "hash": b64encode(digest), "kind": kind, "submission": submission}
        )
        response = self._signed(
            "POST", self._path("/uploads"), keys, body=body, content_type="application/json"
        )
        upload = self._json(response, {201}).get("upload")
        if not isinstance(upload, str) or not _is_id(upload):
            raise ServerError(201, "bad-answer", "the server sent no upload id")
        return upload

    def upload_offset(self, keys: SourceKeys, upload: str) -> Progress:
        """Ask how far an upload has got (HEAD): where to resume from."""
        response = self._signed("HEAD", self._path(f"/uploads/{upload}"), keys)
        self._finish(response)
        if response.status_code != 200:
            raise ServerError(
                response.status_code,
                "not-found" if response.status_code == 404 else "refused",
                f"the server refused to say how far the upload got ({response.status_code})",
                retry_after=_number(response.headers.get("Retry-After")),
            )
        offset = _number(response.headers.get(HEADER_OFFSET))
        size = _number(response.headers.get(HEADER_LENGTH))
        if offset is None or size is None or offset > size:
            raise ServerError(200, "bad-answer", "the server did not say where the upload stands")
        return Progress(offset, size, upload if offset == size else None)

    def append(
        self,
        keys: SourceKeys,
        upload: str,
        offset: int,
        chunk: bytes,
        on_sent: Callable[[int], None] | None = None,
    ) -> Progress:
        """Send one chunk at `offset` (PATCH); a 409 carries the offset the server holds."""
        response = self._signed(
            "PATCH",
            self._path(f"/uploads/{upload}"),
            keys,
            body=chunk,
            content_type=OFFSET_CONTENT_TYPE,
            offset=offset,
            on_sent=on_sent,
        )
        value = self._json(response, {200})
        new, size, item = value.get("offset"), value.get("size"), value.get("item")
        if type(new) is not int or type(size) is not int or not 0 <= new <= size:
            raise ServerError(200, "bad-answer", "the server sent a malformed progress report")
        if value.get("complete") is True:
            if not isinstance(item, str) or not _is_id(item):
                raise ServerError(200, "bad-answer", "the server stored the upload under no id")
            return Progress(new, size, item)
        return Progress(new, size, None)

    def replies(self, keys: SourceKeys) -> Waiting:
        """The replies waiting for this source: the newest the run may fetch, each listed once."""
        answer = self._json(self._signed("GET", self._path("/replies"), keys), {200})
        listed, notice = answer.get("replies"), answer.get("notice")
        seen: set[str] = set()
        valid: list[ReplyInfo] = []
        for entry in listed if isinstance(listed, list) else []:
            info = _reply_info(entry)
            if info is not None and info.id not in seen:
                seen.add(info.id)
                valid.append(info)
        kept: list[ReplyInfo] = []
        total = 0
        for info in reversed(valid):
            if len(kept) == MAX_REPLIES or total + info.size > MAX_REPLY_BYTES:
                break
            kept.append(info)
            total += info.size
        kept.reverse()
        known = notice if isinstance(notice, str) and notice in NOTICES else None
        return Waiting(kept, len(valid) - len(kept), known)

    def reply(self, keys: SourceKeys, info: ReplyInfo) -> bytes:
        """One reply envelope, as stored (sealed to the source, signed by a reviewer).

        It may be no larger than the listing said: the listed sizes are what bound a run.
        """
        response = self._signed("GET", self._path(f"/replies/{info.id}"), keys)
        if response.status_code != 200:
            raise self._error(response)
        return self._read(response, info.size)

    def delete_reply(self, keys: SourceKeys, info: ReplyInfo) -> bool:
        """Delete one reply from the server; False if it has none (deleted already)."""
        response = self._signed("DELETE", self._path(f"/replies/{info.id}"), keys)
        if response.status_code not in (204, 404):
            raise self._error(response)
        self._finish(response)
        return response.status_code == 204

    def unheld_reply(self, keys: SourceKeys, info: ReplyInfo, statement: UnheldPrekey) -> bool:
        """Tell the server, signed, that this device cannot open a reply; False if it did not
        take it (gone, or a server from before this request): the replies are shown all the same.
        """
        response = self._signed(
            "POST",
            self._path(f"/replies/{info.id}/unheld"),
            keys,
            body=_encode(statement.to_json()),
            content_type="application/json",
        )
        self._finish(response)
        return response.status_code == 204

    # -- answers --------------------------------------------------------------------

    def _read(self, response: requests.Response, limit: int) -> bytes:
        """Read the body up to `limit` bytes, within the exchange's deadline; close it."""
        data = bytearray()
        try:
            # read1 returns what has arrived, so the limit is checked as bytes come in.
            while block := response.raw.read1(_SLICE, decode_content=False):
                data += block
                if len(data) > limit:
                    raise ServerError(200, "too-large", "the server's answer is too large")
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
            raise self._lost(exc) from exc
        finally:
            self._finish(response)
        if self._exchange is not None and self._exchange.expired:
            raise self._lost(TimeoutError())
        return bytes(data)

    def _json(self, response: requests.Response, ok: set[int]) -> dict[str, Any]:
        """The answer's JSON object if its status is one of `ok`; otherwise the server's refusal."""
        if response.status_code not in ok:
            raise self._error(response)
        try:
            value = json.loads(self._read(response, MAX_JSON_BYTES))
        # A deeply nested answer exhausts the parser's recursion, not only a malformed one.
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            raise ServerError(
                response.status_code, "bad-answer", "the server's answer is not JSON"
            ) from exc
        if not isinstance(value, dict):
            raise ServerError(
                response.status_code, "bad-answer", "the server's answer is not an object"
            )
        return value

    def _error(self, response: requests.Response, hint: str | None = None) -> ServerError:
        """Turn a refusal into an error: the server's code and message, and its Upload-Offset."""
        code, message, quoted = "error", f"the server answered {response.status_code}", False
        try:
            value = json.loads(self._read(response, MAX_JSON_BYTES))
        except (ValueError, UnicodeDecodeError, RecursionError, ServerError, TransportError):
            value = None
        if isinstance(value, dict):
            if isinstance(value.get("error"), str):
                code = value["error"]
            if isinstance(value.get("message"), str):
                message = f"the server refused: {_one_line(value['message'])}"
                quoted = True
        if response.status_code == 429 and hint is None:
            hint = "too many requests failed recently: wait a few minutes"
        offset = _number(response.headers.get(HEADER_OFFSET))
        return ServerError(
            response.status_code,
            code,
            message,
            offset=offset,
            hint=hint,
            quoted=quoted,
            retry_after=_number(response.headers.get("Retry-After")),
        )


def _encode(value: dict[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _is_id(value: str) -> bool:
    return len(value) == 32 and all(c in "0123456789abcdef" for c in value)


def _reply_info(entry: Any) -> ReplyInfo | None:
    """One entry of the listing, or None if it is not a reply this client would fetch."""
    if not isinstance(entry, dict):
        return None
    rid, size, day = entry.get("id"), entry.get("size"), entry.get("day")
    if (
        isinstance(rid, str)
        and _is_id(rid)
        and type(size) is int
        and 0 < size <= MAX_REPLY_BYTES
        and isinstance(day, str)
        and _DAY.fullmatch(day)
    ):
        return ReplyInfo(rid, size, day)
    return None


def _one_line(text: str) -> str:
    """The server's words as one short line: they must not fill the screen or forge a line."""
    folded = " ".join(text.split())
    if len(folded) <= MAX_MESSAGE_CHARS:
        return folded
    return folded[: MAX_MESSAGE_CHARS - 1] + "…"


def _number(text: str | None) -> int | None:
    if text is None or not text.isascii() or not text.isdigit() or len(text) > 15:
        return None
    return int(text)
