"""A deadline for a whole HTTP exchange: connect, TLS handshake, request, headers and body.

httpx's timeouts bound each network operation on its own, so a deployment that sends a byte a
second restarts the read timeout with every byte and never times out. Here every operation httpcore
performs is given at most the time left before the exchange's deadline, so the exchange ends then,
whichever phase it is in; a read that would block forever is cut at the deadline too.
"""

from __future__ import annotations

import functools
import ssl
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import httpcore
import httpx

# httpx's own pool limits: a client with this transport keeps its connections as httpx would.
_LIMITS = httpx.Limits()


class Deadline:
    """The monotonic time by which the exchange under way in this thread must be over."""

    def __init__(self) -> None:
        self._local = threading.local()

    @contextmanager
    def within(self, seconds: float) -> Iterator[None]:
        self._local.at = time.monotonic() + seconds
        try:
            yield
        finally:
            self._local.at = None

    def left(self, timeout: float | None, expired: type[httpcore.TimeoutException]) -> float | None:
        """The smaller of httpcore's `timeout` and the time left; raises `expired` once none is left."""
        at = getattr(self._local, "at", None)
        if at is None:
            return timeout
        remaining = at - time.monotonic()
        if remaining <= 0:
            raise expired("the deadline passed")
        return remaining if timeout is None else min(timeout, remaining)


class _Stream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream, deadline: Deadline) -> None:
        self._stream, self._deadline = stream, deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, self._deadline.left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, self._deadline.left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        try:
            secured = self._stream.start_tls(
                ssl_context, server_hostname, self._deadline.left(timeout, httpcore.ConnectTimeout)
            )
        except httpcore.ConnectTimeout as error:
            # A listener that takes the connection and never answers the hello: say it was TLS that stalled.
            raise httpcore.ConnectTimeout(f"the TLS handshake did not complete ({error})") from error
        return _Stream(secured, self._deadline)

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _Backend(httpcore.NetworkBackend):
    def __init__(self, deadline: Deadline) -> None:
        self._backend, self._deadline = httpcore.SyncBackend(), deadline

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        stream = self._backend.connect_tcp(
            host, port, self._deadline.left(timeout, httpcore.ConnectTimeout), local_address, socket_options
        )
        return _Stream(stream, self._deadline)

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


@functools.cache
def _ssl_context(verify: bool | str) -> ssl.SSLContext:
    """One context for every pool of the run: loading the CA bundle costs 20 ms each time."""
    return httpx.create_ssl_context(verify=verify)


class DeadlineTransport(httpx.HTTPTransport):
    """httpx's transport, its connections made through the deadline.

    httpx's own constructor takes no network backend, so this one builds httpcore's pool with one
    (and skips the pool httpx would build). Proxies from the environment are not used: the suite
    talks to the deployment directly."""

    def __init__(self, deadline: Deadline, verify: bool | str) -> None:
        self._pool = httpcore.ConnectionPool(
            ssl_context=_ssl_context(verify),
            max_connections=_LIMITS.max_connections,
            max_keepalive_connections=_LIMITS.max_keepalive_connections,
            keepalive_expiry=_LIMITS.keepalive_expiry,
            network_backend=_Backend(deadline),
        )
