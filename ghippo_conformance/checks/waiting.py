"""Waiting for an eventually consistent result without retries that could hide flapping."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Settled:
    held: bool
    after_s: float
    checks: int


def until_it_holds(
    check: Callable[[], bool], *, consecutive: int = 2, within_s: float = 10.0, interval_s: float = 0.25
) -> Settled:
    """Poll `check` until it holds on `consecutive` checks in a row, or `within_s` has passed.

    A flapping result (holds, fails, holds) restarts the count instead of passing."""
    started = time.monotonic()
    streak = checks = 0
    while True:
        checks += 1
        streak = streak + 1 if check() else 0
        elapsed = time.monotonic() - started
        if streak >= consecutive:
            return Settled(True, elapsed, checks)
        if elapsed >= within_s:
            return Settled(False, elapsed, checks)
        time.sleep(interval_s)
