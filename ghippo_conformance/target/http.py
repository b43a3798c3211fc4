"""The one HTTP helper: every request the suite sends goes through `Api.send`.

Each exchange is recorded so that a failing assertion can show the request that was sent and
what came back, with secrets redacted. Secrets the deployment hands out (a `token` field in a
JSON response) are registered with the redactor as soon as they arrive.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from ghippo_conformance.target.redact import Redactor

_BODY_LIMIT = 600
_KEPT_EXCHANGES = 6


_RESOURCE_EXHAUSTED = 8


class RateLimited(pytest.skip.Exception):
    """The deployment's own rate limiting answered (429): not a conformance verdict, so the test
    is skipped with that reason instead of failing."""


def _is_rate_limiting(response: httpx.Response) -> bool:
    # grpc-gateway also maps the API's RESOURCE_EXHAUSTED (a quota such as the key limit) to 429;
    # that one carries a gRPC error body with code 8 and is an answer the tests judge.
    if response.status_code != 429:
        return False
    try:
        body = response.json()
    except ValueError:
        return True
    return not (isinstance(body, dict) and body.get("code") == _RESOURCE_EXHAUSTED)


@dataclass
class Exchange:
    method: str
    url: str
    request_headers: dict[str, str]
    request_body: Any
    response: httpx.Response
    redact: Redactor = field(repr=False)

    @property
    def status(self) -> int:
        return self.response.status_code

    @property
    def headers(self) -> httpx.Headers:
        return self.response.headers

    @property
    def text(self) -> str:
        return self.response.text

    def json(self) -> Any:
        """The JSON body, or None when the body is not JSON."""
        try:
            return self.response.json()
        except ValueError:
            return None

    def evidence(self) -> str:
        """The exchange as a reader of a failure needs it: request, status, headers, body."""
        headers = "; ".join(f"{k}: {v}" for k, v in self.request_headers.items())
        sent = f"{self.method} {self.url}" + (f" [{headers}]" if headers else "")
        if self.request_body is not None:
            sent += f" body={json.dumps(self.request_body)}"
        body = self.text
        if len(body) > _BODY_LIMIT:
            body = body[:_BODY_LIMIT] + f"… ({len(self.text)} chars)"
        content_type = self.headers.get("content-type", "-")
        challenge = self.headers.get("www-authenticate")
        got = f"{self.status} ({content_type})" + (f" WWW-Authenticate: {challenge}" if challenge else "")
        return self.redact(f"  sent: {sent}\n  got:  {got} {body}")


class Api:
    """A keep-alive client bound to one deployment, recording what it sends and receives."""

    def __init__(
        self,
        base_url: str,
        redactor: Redactor,
        *,
        verify: bool | str = True,
        timeout: float = 10.0,
        max_rps: float | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.redact = redactor
        self._client = httpx.Client(verify=verify, timeout=timeout)
        self._min_interval = 1.0 / max_rps if max_rps else 0.0
        self._last_send = 0.0
        self._lock = threading.Lock()
        self.request_count = 0
        self.recent: list[Exchange] = []
        self.state_changes: list[tuple[str, str]] = []  # (method, path) of every non-GET request

    def send(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
        bearer: str | None = None,
        authorization: str | None = None,
    ) -> Exchange:
        """Send one request; `bearer` sets `Authorization: Bearer …`, `authorization` sets it verbatim."""
        headers = {}
        if bearer is not None:
            headers["Authorization"] = f"Bearer {bearer}"
        if authorization is not None:
            headers["Authorization"] = authorization
        self._pace()
        if method != "GET":
            self.state_changes.append((method, path))
        response = self._client.request(
            method, self.base_url + path, params=params, json=json_body, headers=headers
        )
        self.request_count += 1
        if _is_rate_limiting(response):
            raise RateLimited(f"rate limited: the deployment answered 429 to {method} {path}; lower --max-rps "
                              f"(now {1 / self._min_interval if self._min_interval else 'unlimited'} per process)")
        self._register_secrets(response)
        exchange = Exchange(method, str(response.request.url), headers, json_body, response, self.redact)
        self.recent = [*self.recent[-(_KEPT_EXCHANGES - 1):], exchange]
        return exchange

    def get(self, path: str, **kwargs: Any) -> Exchange:
        return self.send("GET", path, **kwargs)

    def close(self) -> None:
        self._client.close()

    def _pace(self) -> None:
        if not self._min_interval:
            return
        with self._lock:
            wait = self._last_send + self._min_interval - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            self._last_send = time.monotonic()

    def _register_secrets(self, response: httpx.Response) -> None:
        try:
            body = response.json()
        except ValueError:
            return
        if isinstance(body, dict) and isinstance(body.get("token"), str):
            self.redact.add(body["token"])
