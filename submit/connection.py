"""How a run of `raazdar-submit` reaches its instance: the options it was given, the
device's state for the codename, the keyring verified against the pins (trusting on
first use only when told to), and the source's account."""

from __future__ import annotations

import contextlib
import datetime as dt
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit

import click

from crypto import CryptoError, Fingerprint, SourceKeys
from submit import state as state_mod
from submit import transport
from submit.errors import ServerError, StateError, SubmitError, TrustError
from submit.protocol import Api
from submit.trust import KeyringDocument, KeyringPin, Unvouched, Verified, establish

PROG: Final = "raazdar-submit"
TOFU_FLAG: Final = "--trust-on-first-use"
UNPINNED_FLAG: Final = "--accept-unpinned-keyring"


@dataclass(frozen=True)
class Settings:
    """The group's options: where state lives, which instance, and how to reach it."""

    root: Path
    instance: str | None
    authorities: tuple[str, ...]
    socks: str
    launch_tor: bool
    tor_config: Path | None
    direct: bool
    insecure_test_kdf: bool = False
    no_state: bool = False
    fast_kdf: bool = False
    # How many pinned authorities must sign the chain's first manifest (None: all of them).
    threshold: int | None = None
    # A keyring the pins name: the one in force must be it or follow from it.
    keyring: KeyringPin | None = None
    # The pins say the reviewers' subkey lists name the instance: an unbound one is refused.
    bound_subkeys: bool = False
    # Without pins, trust the authority keys the instance publishes (with a warning).
    trust_on_first_use: bool = False
    # By reviewer id, the lowest subkey list number the pins let a run take.
    subkey_floors: Mapping[str, int] = field(default_factory=dict)
    # Take a keyring nothing here vouches for (pins that name no keyring and no state, or
    # a later keyring under another timestamp key), if the pinned authorities signed it.
    accept_unpinned_keyring: bool = False


@contextlib.contextmanager
def device_state(settings: Settings, codename: str) -> Iterator[state_mod.State]:
    """The codename's sealed state on this device, or an amnesic one with --no-state."""
    if settings.no_state:
        with state_mod.amnesic() as state:
            yield state
    else:
        with state_mod.opened(settings.root, codename, fast_kdf=settings.fast_kdf) as state:
            yield state


def _pins(settings: Settings) -> frozenset[Fingerprint]:
    try:
        return frozenset(Fingerprint.parse(text) for text in settings.authorities)
    except CryptoError as exc:
        raise click.BadParameter(
            "not a fingerprint: 32 base32 characters", param_hint="--authority"
        ) from exc


def _warn_tofu(pinned: frozenset[Fingerprint]) -> None:
    lines = [
        "",
        f"{PROG}: WARNING: NO AUTHORITY FINGERPRINTS WERE GIVEN.",
        f"{PROG}: WARNING: The instance publishes these authority keys as its own:",
        *(f"{PROG}: WARNING:     {fp}" for fp in sorted(pinned, key=str)),
        f"{PROG}: WARNING: If the server is already in the wrong hands, so are they, and a report",
        f"{PROG}: WARNING: sealed under them, or a reply signed under them, is theirs: compare",
        f"{PROG}: WARNING: them with fingerprints from the organisation obtained another way,",
        f"{PROG}: WARNING: or start again with --pins-file or --authority.",
        "",
    ]
    click.echo("\n".join(lines), err=True)


def _unvouched(settings: Settings) -> Callable[[Unvouched], None]:
    """A keyring in force that holders of the pinned keys rotated out since could have
    written (PROTOCOL §8.6): pins that name authorities but no keyring, with no state to
    check against; or a keyring after the one the state or the pins vouch for, under
    another timestamp key.

    Nothing the instance serves tells the real keyring from such a fork: they sign
    manifests, timestamp keys and subkey lists of their own. Only the keyring every
    pinned authority signed, alone, or a successor keeping the timestamp key of the
    keyring vouched for (which is kept on the review workstation, not with a holder),
    cannot be one without more; any other is taken only when told to, never by
    default, and only if as many pinned authorities signed it as the first keyring
    needed, so the holders who left cannot talk a source into theirs.
    """

    def decide(found: Unvouched) -> None:
        version = found.verified.manifest.version
        if found.base is None:
            click.echo(
                f"{PROG}: note: this device had no keyring of its own to check the instance's "
                f"against, and the pins name no keyring: version {version} was checked only "
                "against the authority keys the pins name, so a keyring written by holders of "
                "those keys who were rotated out since would pass too",
                err=True,
            )
            why = (
                f"the pins name no keyring, and version {version} follows from their "
                "authority keys alone"
            )
        else:
            ours, theirs = found.verified.manifest.timestamp, found.base.timestamp
            if theirs is None:
                named = "names a timestamp key, which nothing vouches for, after version"
            elif ours is not None and ours.key == theirs.key:
                named = "keeps the timestamp key, an authority holder's key too, of version"
            else:
                named = "names another timestamp key than version"
            why = (
                f"version {version} {named} {found.base.version}, which this device or the "
                "pins vouch for, and follows from it by authority signatures alone"
            )
            click.echo(f"{PROG}: note: {why}", err=True)
        hint = (
            "pins with a current `keyring VERSION DIGEST` line (from the organisation, or "
            f"`{PROG} pins` on a device that used the instance lately) close this"
        )
        all_signed = settings.threshold is None or settings.threshold >= len(_pins(settings))
        if found.base is None and len(found.verified.history) == 1 and all_signed:
            # The keyring every pinned authority signed, and nothing after it: no fork.
            click.echo(f"{PROG}: hint: {hint}", err=True)
            return
        if not found.pins_signed:
            raise TrustError(
                f"{why}: it could be a fork by holders rotated out since, and fewer of the "
                "pinned authority keys signed it than signed the first keyring, so nothing "
                f"was pinned or sent, and {UNPINNED_FLAG} does not take it",
                hint=f"{hint}; ask the organisation for current pins through another channel",
            )
        if settings.accept_unpinned_keyring:
            click.echo(f"{PROG}: hint: {hint}", err=True)
            return
        if sys.stdin.isatty() and click.confirm(
            f"{PROG}: take version {version}, which nobody vouched for, and go on?",
            default=False,
            err=True,
        ):
            return
        raise TrustError(
            f"{why}: it could be a fork by holders rotated out since, so nothing was "
            "pinned or sent",
            hint=f"{hint}; ask the organisation for current pins through another channel, "
            f"or, knowing that a server in the wrong hands could have chosen it, pass "
            f"{UNPINNED_FLAG}",
        )

    return decide


def _first_use(
    settings: Settings, state: state_mod.State
) -> Callable[[frozenset[Fingerprint]], None]:
    """Without pins: warn, and trust what the instance publishes only when told to.

    The flag, or a yes typed at the terminal once the warning is shown, and never
    by default: the report would otherwise be sealed, and replies trusted, in the
    same run that warns of it. Refused, nothing is pinned or sent.
    """

    def decide(pinned: frozenset[Fingerprint]) -> None:
        _warn_tofu(pinned)
        if settings.trust_on_first_use or (
            sys.stdin.isatty()
            and click.confirm(
                f"{PROG}: trust these keys, which nobody checked, and pin them?",
                default=False,
                err=True,
            )
        ):
            # Remembered, so that `pins` never prints them as the organisation's.
            state.tofu = True
            return
        raise TrustError(
            "no authority fingerprints were given, and those the instance publishes were not "
            "trusted: nothing was pinned or sent",
            hint="give the organisation's pins with --pins-file (or --authority); or, knowing "
            f"that a server in the wrong hands would have chosen them, pass {TOFU_FLAG}",
        )

    return decide


@contextlib.contextmanager
def connected(
    settings: Settings, state: state_mod.State
) -> Iterator[tuple[Api, Verified, KeyringDocument]]:
    """Reach the instance as the options say, and verify its keyring against the pins."""
    url = settings.instance or state.instance
    if url is None:
        raise SubmitError(
            "which instance? none is remembered here for this codename",
            hint="give the pins from the organisation with --pins-file (or --instance)",
        )
    endpoint = transport.Endpoint.parse(url, direct=settings.direct)
    if state.instance is not None and state.instance != endpoint.url:
        raise StateError(
            f"this codename's state here belongs to {state.instance}",
            hint="use another --state directory for another instance",
        )
    pins = _pins(settings)
    with contextlib.ExitStack() as stack:
        socks: tuple[str, int] | None
        if settings.direct:
            socks = None
        elif settings.launch_tor:
            extra = transport.read_torrc(settings.tor_config) if settings.tor_config else None
            click.echo(f"{PROG}: starting tor…", err=True)
            socks = stack.enter_context(
                transport.launched_tor(
                    state.root / "tor", extra, timeout=transport.TOR_START_TIMEOUT
                )
            )
        else:
            socks = transport.parse_socks(settings.socks)
            transport.check_socks(socks)
        http = stack.enter_context(transport.session(socks))
        api = Api(http, endpoint.url, timeout=transport.TIMEOUT)
        doc = KeyringDocument.parse(api.keyring())
        state.instance = endpoint.url
        today = dt.datetime.now(dt.UTC).date()
        host = None if endpoint.direct else urlsplit(endpoint.url).hostname
        verified = establish(
            state,
            doc,
            pins,
            today,
            _first_use(settings, state),
            host=host,
            allow_test_kdf=settings.insecure_test_kdf,
            threshold=settings.threshold,
            anchor=settings.keyring,
            bound_subkeys=settings.bound_subkeys,
            floors=settings.subkey_floors,
            unvouched=_unvouched(settings),
        )
        if pins and state.tofu:
            # The chain verified from pins given now: the organisation's word, not the server's.
            state.tofu = False
            state.save()
        if verified.kdf.is_testing:
            click.echo(
                f"{PROG}: WARNING: this instance derives keys with TEST-STRENGTH parameters: "
                "never use a real codename there",
                err=True,
            )
        yield api, verified, doc


def ensure_account(api: Api, keys: SourceKeys, state: state_mod.State) -> None:
    """Create the account if there is none; a refusal of one used here before is no reason
    to log in on the instance's web page, which would hand the server the codename."""
    try:
        api.ensure_account(keys)
    except ServerError as exc:
        # A device that read forward-secret replies here may keep nothing else of it.
        used = state.prekeys or state.shown or state.pending or state.deleted
        if exc.status != 409 or not used:
            raise
        raise ServerError(
            exc.status,
            exc.code,
            str(exc),
            quoted=exc.quoted,
            hint="this device sent or read replies with this codename there before, so the "
            "server has no reason to refuse it: do not type it into the instance's web page, "
            "where the server would get it, and tell the organisation through another channel",
        ) from exc
