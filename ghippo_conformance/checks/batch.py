"""Sending independent requests concurrently, within one process, through the one HTTP helper.

The bearer-attack catalogue is some sixty requests none of which depends on another: on a slow
network they would cost sixty round trips one after the other. A bounded pool sends them side by
side; `Api` paces them (--max-rps holds across threads) and gives each its own deadline, so the
pool changes only how long the run waits, not what any one request may cost the deployment.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx

from ghippo_conformance.target.http import Api, Exchange

WORKERS = 8  # enough to hide a 100 ms round trip behind the others, few enough to look like one client


@dataclass(frozen=True)
class Request:
    """One GET to send: the key that finds its answer again, the path, and `Api.get`'s arguments."""

    key: Hashable
    path: str
    arguments: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    """What came of one request: the exchange, or the transport error that met it (a closed connection)."""

    request: Request
    exchange: Exchange | None
    error: httpx.TransportError | None = None


def send_all(api: Api, requests: Sequence[Request], workers: int = WORKERS) -> list[Outcome]:
    """Every request sent, at most `workers` at a time; the outcomes in the order of `requests`.

    A transport error is an outcome, not a failure of the batch: whether a closed connection is an
    acceptable answer is for the test that owns the request to say. Anything else (the run stopped
    sending, rate limiting) is raised as it would be for a single request."""

    def send(request: Request) -> Outcome:
        try:
            return Outcome(request, api.get(request.path, **request.arguments))
        except httpx.TransportError as error:
            return Outcome(request, None, error)

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="batch") as pool:
        return list(pool.map(send, requests))
