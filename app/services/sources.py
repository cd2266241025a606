"""Source accounts: created on first submission, found by the tag a codename derives."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app import throttle
from app.errors import SubmissionError
from app.models import Source, today
from crypto import CryptoError, PrivateKey, SourceKeys, derive_source_keys, random_words
from crypto.encoding import b64decode, b64encode

LOGIN_BUCKET = "source-login"


@dataclass(frozen=True)
class SignedIn:
    """What a source's session holds: their id and the key that opens their replies."""

    source_id: str
    private_key: PrivateKey

    def to_session(self) -> dict[str, str]:
        """Serialise for the sealed session cookie."""
        return {"id": self.source_id, "sk": b64encode(self.private_key.secret_bytes())}

    @classmethod
    def from_session(cls, value: object) -> SignedIn | None:
        """Read back what `to_session` wrote, or None."""
        if not isinstance(value, dict):
            return None
        try:
            return cls(str(value["id"]), PrivateKey(b64decode(str(value["sk"]), length=32)))
        except (KeyError, ValueError, CryptoError):
            return None


def derive(codename: str) -> SourceKeys:
    """Derive a codename's keys with this instance's salt and Argon2id settings."""
    return derive_source_keys(
        codename, current_app.config["CODENAME_SALT"], current_app.config["CODENAME_KDF"]
    )


def new_designation() -> str:
    """Two random words, unrelated to any codename, by which reviewers know a source."""
    return " ".join(word.capitalize() for word in random_words(2))


def find_or_create(session: Session, keys: SourceKeys) -> Source:
    """Return the source with these keys, creating it (with a fresh designation) if new."""
    found = session.execute(
        select(Source).where(Source.lookup_tag == keys.lookup_tag)
    ).scalar_one_or_none()
    if found is not None:
        found.active_day = today()
        _note_signing_key(found, keys)
        return found
    for _attempt in range(5):
        source = Source(
            lookup_tag=keys.lookup_tag,
            designation=new_designation(),
            public_key=keys.public_key.to_text(),
            signing_key=keys.verify_key.to_text(),
        )
        try:
            with session.begin_nested():
                session.add(source)
            return source
        except IntegrityError:
            continue
    raise SubmissionError("could not create an account; please try again")


def log_in(session: Session, codename: str) -> SignedIn | None:
    """Check a well-formed codename against the accounts; throttled across all workers."""
    limit = current_app.config["LOGIN_THROTTLE_FAILURES"]
    window = current_app.config["LOGIN_THROTTLE_WINDOW_SECONDS"]
    throttle.check(session, LOGIN_BUCKET, limit, window)
    keys = derive(codename)
    source = session.execute(
        select(Source).where(Source.lookup_tag == keys.lookup_tag)
    ).scalar_one_or_none()
    if source is None:
        throttle.record_failure(session, LOGIN_BUCKET, window)
        return None
    source.active_day = today()
    _note_signing_key(source, keys)
    session.commit()
    return SignedIn(source.id, keys.private_key)


def _note_signing_key(source: Source, keys: SourceKeys) -> None:
    """Give an account made before the API its signing key, so its codename works there too."""
    if source.signing_key is None:
        source.signing_key = keys.verify_key.to_text()
