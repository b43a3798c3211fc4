"""A fault-injecting HTTP proxy for the self-tests: a deployment that misbehaves the way a broken
one, or a load balancer in front of it, does.

`FaultProxy` listens on loopback in front of a running reference and forwards every request to it,
except those its one fault covers (`Scope`: after the first requests, on some paths, every n-th),
which the fault answers instead: a drip, an endless body, a gzip bomb, a redirect, a reset, random
bytes, silence, or the proxy dying. `Witness` records what it is sent (where a redirect points);
`SilentServer` accepts connections and never sends a byte (a TLS handshake that never completes).
Each server runs its own asyncio loop in a background thread.
"""

from __future__ import annotations

import asyncio
import functools
import random
import socket
import struct
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus

import httpx

_HOP_BY_HOP = {"host", "content-length", "transfer-encoding", "connection", "keep-alive", "content-encoding"}
_START_S = 10.0


@dataclass(frozen=True)
class Request:
    number: int  # 1-based, in the order requests arrived at this server, across connections
    method: str
    target: str  # path and query, as sent
    headers: list[tuple[str, str]]
    body: bytes

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]


@dataclass
class Scope:
    """The requests a fault covers: after the first `after` (the session-start check passes), on
    paths starting with `path`, and of those every `every`-th."""

    after: int = 0
    path: str = ""
    every: int = 1
    _matched: int = field(default=0, init=False)

    def covers(self, request: Request) -> bool:
        if request.number <= self.after or not request.path.startswith(self.path):
            return False
        self._matched += 1
        return self._matched % self.every == 0


def _head(status: int, headers: list[tuple[str, str]]) -> bytes:
    lines = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}", *(f"{name}: {value}" for name, value in headers)]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _answer(status: int, body: bytes = b"", headers: list[tuple[str, str]] | None = None) -> bytes:
    return _head(status, [*(headers or []), ("Content-Length", str(len(body)))]) + body


async def _read_request(reader: asyncio.StreamReader, number: Callable[[], int]) -> Request | None:
    """The next request on a connection, or None when the client closed it; `number()` numbers it
    once it has come in whole (connections wait for their next request side by side)."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    request_line, *header_lines = head.decode("latin-1").rstrip("\r\n").split("\r\n")
    method, target, _ = request_line.split(" ", 2)
    headers = [(name.strip(), value.strip()) for name, value in (line.split(":", 1) for line in header_lines)]
    length = int(next((value for name, value in headers if name.lower() == "content-length"), "0"))
    body = await reader.readexactly(length)
    return Request(number(), method, target, headers, body)


class _LoopbackServer:
    """A TCP server on `host` with its own event loop in a thread; a context manager."""

    def __init__(self, host: str = "127.0.0.1", scheme: str = "http") -> None:
        self.host, self.scheme = host, scheme
        self.requests: list[Request] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name=type(self).__name__, daemon=True)
        self._handlers: set[asyncio.Task] = set()

    def __enter__(self) -> _LoopbackServer:
        self._thread.start()
        self._server = self._run(asyncio.start_server(self._accept, self.host, 0))
        self.base_url = f"{self.scheme}://{self.host}:{self._server.sockets[0].getsockname()[1]}"
        return self

    def __exit__(self, *exc_info) -> None:
        self._run(self._shut())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(_START_S)

    def _run(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(_START_S)

    async def _shut(self) -> None:
        """Stop accepting and drop every connection, at once, as a process that dies does."""
        self._server.close()
        for handler in list(self._handlers):
            handler.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handler = asyncio.current_task()
        self._handlers.add(handler)
        try:
            await self._serve(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass  # the client went away, or sent what no HTTP server would read (a TLS hello)
        except asyncio.CancelledError:
            pass  # the server shut; ending quietly keeps asyncio from logging the cancellation
        finally:
            self._handlers.discard(handler)
            writer.transport.abort()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while request := await _read_request(reader, lambda: len(self.requests) + 1):
            self.requests.append(request)
            if not await self._answer(request, writer):
                return

    async def _answer(self, request: Request, writer: asyncio.StreamWriter) -> bool:
        """Answer `request`; False closes the connection."""
        raise NotImplementedError


class Witness(_LoopbackServer):
    """Answers 404 to everything and keeps every request it was sent, headers included."""

    async def _answer(self, request: Request, writer: asyncio.StreamWriter) -> bool:
        writer.write(_answer(404))
        await writer.drain()
        return True


class SilentServer(_LoopbackServer):
    """Accepts every connection and never sends a byte: point an https:// URL at it and the TLS
    handshake never completes."""

    def __init__(self) -> None:
        super().__init__(scheme="https")

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.Event().wait()  # until the server shuts


class FaultProxy(_LoopbackServer):
    """Forwards to `upstream`, except the requests `fault` covers, which the fault answers."""

    def __init__(self, upstream: str, fault: Fault) -> None:
        super().__init__()
        self.upstream, self.fault = upstream, fault
        self._client: httpx.AsyncClient | None = None  # made in the proxy's loop, on first use

    async def _answer(self, request: Request, writer: asyncio.StreamWriter) -> bool:
        if self.fault.scope.covers(request):
            return await self.fault.answer(self, request, writer)
        writer.write(await self.fetch(request))
        await writer.drain()
        return True

    async def fetch(self, request: Request) -> bytes:
        """The upstream's whole answer to `request`, as it goes on the wire."""
        self._client = self._client or httpx.AsyncClient(trust_env=False)
        response = await self._client.request(
            request.method,
            self.upstream + request.target,
            headers=[(name, value) for name, value in request.headers if name.lower() not in _HOP_BY_HOP],
            content=request.body,
        )
        kept = [(name, value) for name, value in response.headers.multi_items() if name.lower() not in _HOP_BY_HOP]
        return _answer(response.status_code, response.content, kept)

    async def die(self) -> None:
        await self._shut()


@dataclass(kw_only=True)
class Fault:
    scope: Scope = field(default_factory=Scope)

    async def answer(self, proxy: FaultProxy, request: Request, writer: asyncio.StreamWriter) -> bool:
        """Answer `request` the broken way; False closes the connection."""
        raise NotImplementedError


@dataclass(kw_only=True)
class Drip(Fault):
    """The true answer, one byte a second."""

    async def answer(self, proxy: FaultProxy, request: Request, writer: asyncio.StreamWriter) -> bool:
        for byte in await proxy.fetch(request):
            writer.write(bytes([byte]))
            await writer.drain()
            await asyncio.sleep(1)
        return False


@dataclass(kw_only=True)
class EndlessBody(Fault):
    """A 200 JSON list whose body never ends (no length: it would end when the connection closes)."""

    async def answer(self, proxy: FaultProxy, request: Request, writer: asyncio.StreamWriter) -> bool:
        writer.write(_head(200, [("Content-Type", "application/json"), ("Connection", "close")]) + b'{"items": [')
        items = b'{"id": "endless", "name": "endless"}, ' * 2048
        while True:
            writer.write(items)
            await writer.drain()


@functools.cache
def gzip_bomb(inflated_mib: int) -> bytes:
    """A gzip body that inflates to `inflated_mib` MiB of zeros, about a thousandth of that in size.
    Deflating a MiB of zeros gives the same bytes after every full flush, so the stream is that
    piece repeated: building it costs one MiB of compression, not two GiB."""
    zeros = bytes(1 << 20)
    deflate = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    piece = deflate.compress(zeros) + deflate.flush(zlib.Z_FULL_FLUSH)
    crc = functools.reduce(lambda crc, _: zlib.crc32(zeros, crc), range(inflated_mib), 0)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"  # gzip, deflate, no name, no time, best compression
    trailer = struct.pack("<II", crc, (inflated_mib << 20) & 0xFFFFFFFF)
    return header + piece * inflated_mib + deflate.flush() + trailer


@dataclass(kw_only=True)
class GzipBomb(Fault):
    """A 200 JSON answer, gzip-encoded: about 2 MiB on the wire, 2 GiB inflated."""

    inflated_mib: int = 2048

    async def answer(self, proxy: FaultProxy, request: Request, writer: asyncio.StreamWriter) -> bool:
        headers = [("Content-Type", "application/json"), ("Content-Encoding", "gzip")]
        writer.write(_answer(200, gzip_bomb(self.inflated_mib), headers))
        await writer.drain()
        return True


@dataclass(kw_only=True)
class Redirect(Fault):
    """A 302 to the same path and query at `to`, another origin."""

    to: str

    async def answer(self, proxy: FaultProxy, request: Request, writer: asyncio.StreamWriter) -> bool:
        writer.write(_answer(302, headers=[("Location", self.to + request.target)]))
        await writer.drain()
        return True


@dataclass(kw_only=True)
class Reset(Fault):
    """The connection reset (RST, not a clean close) instead of an answer."""

    async def answer(self, proxy: FaultProxy, request: Request, writer: asyncio.StreamWriter) -> bool:
        writer.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        return False


@dataclass(kw_only=True)
class RandomBytes(Fault):
    """A 200 labelled application/json whose body is random bytes (the same for each request number)."""

    size: int = 4096

    async def answer(self, proxy: FaultProxy, request: Request, writer: asyncio.StreamWriter) -> bool:
        body = random.Random(request.number).randbytes(self.size)
        writer.write(_answer(200, body, [("Content-Type", "application/json")]))
        await writer.drain()
        return True


@dataclass(kw_only=True)
class TooManyRequests(Fault):
    """429 with a Retry-After, as a gateway in front of the deployment sends it, to every request in scope."""

    async def answer(self, proxy: FaultProxy, request: Request, writer: asyncio.StreamWriter) -> bool:
        writer.write(_answer(429, b"slow down", [("Content-Type", "text/plain"), ("Retry-After", "1")]))
        await writer.drain()
        return True


# Terminal controls in an error body: clear the screen, set the window title, colour, a bidi override.
ESCAPES = "\x1b[2J\x1b]0;owned\x07\x1b[31m\u202e"


@dataclass(kw_only=True)
class TerminalEscapes(Fault):
    """A 401 error body with terminal control sequences written raw into its message (not JSON-escaped,
    as a careless server prints them), so every report that quotes the body meets them."""

    async def answer(self, proxy: FaultProxy, request: Request, writer: asyncio.StreamWriter) -> bool:
        body = f'{{"code": 16, "message": "refused {ESCAPES} | `x` <img src=x>", "details": []}}'
        headers = [("Content-Type", "application/json"), ("WWW-Authenticate", 'Bearer realm="x"')]
        writer.write(_answer(401, body.encode(), headers))
        await writer.drain()
        return True


@dataclass(kw_only=True)
class Dies(Fault):
    """The deployment goes away: no answer, every connection dropped, no new one accepted."""

    async def answer(self, proxy: FaultProxy, request: Request, writer: asyncio.StreamWriter) -> bool:
        asyncio.get_running_loop().create_task(proxy.die())  # the dying also cancels this handler
        return False


@dataclass(kw_only=True)
class Hangs(Fault):
    """The request is read and never answered; the connection stays open."""

    async def answer(self, proxy: FaultProxy, request: Request, writer: asyncio.StreamWriter) -> bool:
        await asyncio.Event().wait()  # until the proxy shuts
        return False
