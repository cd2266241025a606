"""A disk that fails one write step: the k-th of a run's creations, writes, flushes, renames.

`StepFaults.walk` runs an action failing its first step, then its second, and so on
until a run gets through, and hands each failed run to a check, so that a test
covers every step of a submission, an export or a reply bundle's apply (as
tests/submit/test_killed.py walks the client's). Steps are counted where Python
makes them: `os` calls and writes to files opened with `os.fdopen`; the database
driver's own writes are not among them. Only the thread that runs the action counts:
a thread an earlier test left behind (a login's end, a WAL's emptying) writes as it
will, and its step would otherwise fail in it while the action went through.
"""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import pytest

# Flags of an `os.open` that makes or changes a file (a read changes nothing on a full disk).
_WRITES = os.O_WRONLY | os.O_RDWR | os.O_CREAT
T = TypeVar("T")
_CALLS = ("fsync", "replace", "rename", "posix_fallocate", "ftruncate")


class StepFaults:
    """Fail one step, by number, of what the server writes to its files."""

    def __init__(
        self,
        monkeypatch: pytest.MonkeyPatch,
        error: int,
        *,
        after: tuple[object, str] | None = None,
        outside: tuple[object, str] | None = None,
    ) -> None:
        """`after` (a module and a function's name in it): count only the steps from the
        function's first call on, not those of starting the app that runs it. `outside`:
        count none of the steps taken within a function's calls (one another test walks)."""
        self._monkeypatch = monkeypatch
        self._error = error
        self._after = after
        self._outside = outside
        self._inside = 0
        self._armed = after is None
        self._failing = 0
        self._thread = threading.get_ident()
        self.steps: list[str] = []

    def walk(
        self,
        action: Callable[[], T],
        failed: Callable[[int, T], None],
        *,
        done: Callable[[T], bool] = lambda _result: False,
    ) -> int:
        """Run `action` failing its first step, then its second, and so on, and give `failed`
        each failed run's step and result; stop at a run that took fewer steps than the one
        failed, or that `done` says went through (a step failed after the commit, in what
        only tidies up). Returns the step the last run stopped at."""
        step = 0
        while True:
            step += 1
            with self._failing_at(step):
                result = action()
            if len(self.steps) < step or done(result):
                return step
            failed(step, result)

    def _step(self, name: str) -> None:
        if not self._armed or self._inside or threading.get_ident() != self._thread:
            return
        self.steps.append(name)
        if len(self.steps) == self._failing:
            raise OSError(self._error, os.strerror(self._error))

    @contextmanager
    def _failing_at(self, step: int) -> Iterator[None]:
        self.steps, self._failing, self._armed = [], step, self._after is None
        self._thread = threading.get_ident()
        with self._monkeypatch.context() as patch:
            if self._after is not None:
                module, name = self._after
                patch.setattr(module, name, self._arming(getattr(module, name)))
            if self._outside is not None:
                module, name = self._outside
                patch.setattr(module, name, self._uncounted(getattr(module, name)))
            for name in _CALLS:
                patch.setattr(os, name, self._counted(name, getattr(os, name)))
            patch.setattr(os, "open", self._open(os.open))
            patch.setattr(os, "fdopen", self._fdopen(os.fdopen))
            yield

    def _arming(self, real: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            self._armed, self._thread = True, threading.get_ident()
            return real(*args, **kwargs)

        return call

    def _uncounted(self, real: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            self._inside += 1
            try:
                return real(*args, **kwargs)
            finally:
                self._inside -= 1

        return call

    def _counted(self, name: str, real: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            self._step(name)
            return real(*args, **kwargs)

        return call

    def _open(self, real: Callable[..., int]) -> Callable[..., int]:
        def call(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
            if flags & _WRITES:
                self._step("open")
            return real(path, flags, *args, **kwargs)

        return call

    def _fdopen(self, real: Callable[..., Any]) -> Callable[..., Any]:
        step = self._step

        class Writer(io.BufferedWriter):
            def write(self, data: Any) -> int:
                step("write")
                return super().write(data)

        def call(fd: int, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
            if mode in ("wb", "ab"):
                return Writer(io.FileIO(fd, mode))
            return real(fd, mode, *args, **kwargs)

        return call
