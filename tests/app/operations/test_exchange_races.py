"""Two workers applying the same reply bundle at once: its replies are posted once, and the
one that loses leaves no reply's file behind."""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path

from flask import Flask
from sqlalchemy.orm import Session

from app.db import db_session
from app.errors import AppError
from app.models import Item, Reply
from app.operations.exchange import ApplySummary, apply_reply_bundle
from crypto.errors import CryptoError
from tests.app.operations.test_exchange import Review, store_files, two_reports_answered
from tests.app.support import reviewer_keys, row_counts, staging_files


def test_the_same_reply_bundle_applied_twice_at_once_posts_each_reply_once(
    app: Flask, instance: Path, tmp_path: Path
) -> None:
    review = Review(instance, reviewer_keys(instance))
    bundle = two_reports_answered(app, instance, review, tmp_path)
    # Both reach their commit together where the database lets them (PostgreSQL); SQLite's
    # write lock keeps the second out until the first is done, and the wait gives up.
    both_staged = threading.Barrier(2, timeout=3)
    outcomes: list[object] = []

    def meet(_session: Session, _summary: ApplySummary) -> None:
        with contextlib.suppress(threading.BrokenBarrierError):
            both_staged.wait()

    def apply() -> None:
        with app.app_context(), bundle.open("rb") as src:
            try:
                outcomes.append(apply_reply_bundle(db_session(), src, before_commit=meet))
            except (AppError, CryptoError) as exc:
                outcomes.append(exc)

    workers = [threading.Thread(target=apply) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)

    applied = [o for o in outcomes if isinstance(o, ApplySummary)]
    assert len(outcomes) == 2, outcomes
    assert len(applied) == 1, outcomes
    assert row_counts(app, Item, Reply) == {"items": 0, "replies": 2}
    assert len(store_files(instance)) == 2, "the apply that lost left its replies' files"
    assert staging_files(instance) == []
