"""Forked workers that meet at one step, as gunicorn's do when two requests come at once."""

from __future__ import annotations

import contextlib
import multiprocessing
import threading
from collections.abc import Callable
from typing import Any

import pytest


def at_once_in_workers(
    monkeypatch: pytest.MonkeyPatch,
    owner: object,
    step: str,
    work: Callable[[], Any],
    count: int = 2,
) -> list[Any]:
    """Run `work` in `count` forked workers that meet at `owner.step`; return what each gave.

    Each, once it has taken the step, waits there (at most 1 s) for the
    others, so that all have read what they read by then before any writes
    what comes after: the window of a race. Where the step is taken under a
    lock, the others cannot come and the wait ends alone. The workers share
    what this process mapped before the fork (the shared tables of `app.circuits`
    and `app.kdf_pool`).
    """
    fork = multiprocessing.get_context("fork")
    meet = fork.Barrier(count)
    original = getattr(owner, step)

    def meeting(*args: Any, **kwargs: Any) -> Any:
        taken = original(*args, **kwargs)
        with contextlib.suppress(threading.BrokenBarrierError):
            meet.wait(timeout=1)
        return taken

    monkeypatch.setattr(owner, step, meeting)
    answers = fork.Queue()

    def worker() -> None:
        try:
            answers.put(work())
        except BaseException as exc:  # reported to the test, as the request's answer
            answers.put(f"{type(exc).__name__}: {exc}")

    workers = [fork.Process(target=worker) for _ in range(count)]
    for process in workers:
        process.start()
    try:
        return [answers.get(timeout=20) for _ in workers]
    finally:
        for process in workers:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
