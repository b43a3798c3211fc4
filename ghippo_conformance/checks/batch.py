"""Sending independent requests concurrently, within one process, through the one HTTP helper.

The bearer-attack catalogue is some sixty requests none of which depends on another, the request
shapes of AUTH-MISSING and API-AUTH-ENFORCED some forty: on a slow network they would cost a round
trip each, one after the other. A bounded pool sends them side by side; `Api` paces them (--max-rps
holds across threads) and gives each its own deadline, so the pool changes only how long the run
waits, not what any one request may cost the deployment.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx

from ghippo_conformance.checks import expect
from ghippo_conformance.deployment.http import Api, Exchange

WORKERS = 8  # enough to hide a 100 ms round trip behind the others, few enough to look like one client


@dataclass(frozen=True)
class Request:
    """One request to send: the key that finds its answer again, the path, `Api.send`'s arguments, the method."""

    key: Hashable
    path: str
    arguments: dict[str, Any] = field(default_factory=dict)
    method: str = "GET"


@dataclass(frozen=True)
class Outcome:
    """What came of one request: the exchange, or the error that met it (a closed connection, a
    timeout, a body over --max-body-mib)."""

    request: Request
    exchange: Exchange | None
    error: httpx.RequestError | None = None

    def answered(self, what: str) -> Exchange:
        """The exchange; a request that got no answer fails its test, with what went wrong."""
        __tracebackhide__ = True
        expect.that(self.exchange is not None, f"expected an answer to {what}, got none: {self.error}")
        return self.exchange


def send_all(api: Api, requests: Sequence[Request], workers: int = WORKERS) -> list[Outcome]:
    """Every request sent, at most `workers` at a time; the outcomes in the order of `requests`.

    A request that got no usable answer is an outcome, not a failure of the batch: whether a closed
    connection is an acceptable answer is for the test that owns the request to say, and a body too
    large fails that test only, as it would for a single request. Anything else (the run stopped
    sending, rate limiting) is raised as it would be for a single request."""

    def send(request: Request) -> Outcome:
        try:
            return Outcome(request, api.send(request.method, request.path, **request.arguments))
        except httpx.RequestError as error:
            return Outcome(request, None, error)

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="batch") as pool:
        return list(pool.map(send, requests))


def answers(api: Api, requests: Sequence[Request], workers: int = WORKERS) -> dict[Hashable, Outcome]:
    """`send_all`'s outcomes by the key of their request."""
    return {outcome.request.key: outcome for outcome in send_all(api, requests, workers)}
