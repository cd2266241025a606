"""What every screen of the review UI shares: the unlocked workspace, and doing one action."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar, cast

from textual.screen import Screen

from crypto.errors import CryptoError
from review.errors import ReviewError
from review.tui.widgets import Message, Say
from review.workspace import Unlocked

if TYPE_CHECKING:
    from review.tui.app import ReviewApp

T = TypeVar("T")
R = TypeVar("R")


class Page(Screen[R]):
    """A full screen of the review UI, with a message line for what its actions did."""

    @property
    def review(self) -> ReviewApp:
        """The app, typed."""
        return cast("ReviewApp", self.app)

    @property
    def unlocked(self) -> Unlocked:
        """The workspace, unlocked as the reviewer at the keyboard."""
        return self.review.unlocked

    def say(self, text: str, error: bool = False) -> None:
        """Show a line on this screen's message line."""
        self.query_one(Message).show(text, error=error)

    def attempt(
        self, action: Callable[[], T], done: str | None = None, *, show: Say | None = None
    ) -> tuple[bool, T | None]:
        """Run one review action; a refusal becomes a message, as the CLI's errors do.

        The message goes to `show` (this screen's message line by default).
        Returns whether the action succeeded, and its result.
        """
        say = show or self.say
        try:
            self.review.follow_rewrap()
            result = action()
        except ReviewError as exc:
            say(refusal(exc), True)
            return False, None
        except CryptoError as exc:
            say(f"error: {exc} (hint: run `raazdar-review audit verify`)", True)
            return False, None
        except OSError as exc:
            say(f"error: {exc.strerror or exc}: {exc.filename or ''}", True)
            return False, None
        if done is not None:
            say(done, False)
        return True, result


def refusal(exc: ReviewError) -> str:
    """A refusal as one line: the error, and its hint."""
    return f"error: {exc}" + (f" (hint: {exc.hint})" if exc.hint else "")
