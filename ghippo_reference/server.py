"""Start a reference deployment: uvicorn in a background thread, on loopback only."""

import socket
import threading
import time
from dataclasses import dataclass, field
from email.utils import formatdate

import uvicorn
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from ghippo_reference.app import build_app
from ghippo_reference.auth import CONNECTION_STATE, OVERSIZED_BYTES
from ghippo_reference.behaviour import Behaviour
from ghippo_reference.clock_control import clock_key, requested_offset_s
from ghippo_reference.keys import create_key
from ghippo_reference.signing import signing_key
from ghippo_reference.state import REQUEST_CLOCK_OFFSET_S, Deployment
from ghippo_reference.users import credentials_owner

CONFORMING = Behaviour()

HOST = "127.0.0.1"
_THREAD_TIMEOUT_S = 5.0
# The scope key under which _ClosableConnections offers the application a way to close the connection.
_CLOSE_CONNECTION = "ghippo.close_connection"


@dataclass
class RunningReference:
    base_url: str
    # The first pre-existing key, in the form the deployment's flow uses ({} without keys).
    # Kept out of repr: a secret must not reach a log by way of a printed object.
    credentials: dict[str, str] = field(repr=False)
    _deployment: Deployment = field(repr=False)
    _server: uvicorn.Server = field(repr=False)
    _thread: threading.Thread = field(repr=False)

    @property
    def request_count(self) -> int:
        return self._deployment.request_count

    def admin_key_ids(self) -> list[str]:
        """Ids of the admin's keys as stored now, so a self-test can see what a run left behind."""
        return [key.id for key in self._deployment.keys.live_keys(self._deployment.users.admin.id)]

    def advance_clock(self, seconds: float) -> None:
        """Move the deployment's clock (its Date header, its tokens' iat and exp checks) while it runs."""
        self._deployment.advance_clock(seconds)

    @property
    def clock_key(self) -> str:
        """What a request needs to move this deployment's clock for itself (clock_control.CLOCK_HEADER)."""
        return clock_key()

    def add_key(self, name: str) -> dict:
        """Create a key for the admin as the API would: the create response, or ApiError over the limit."""
        return create_key(self._deployment, self._deployment.users.admin, name, "")

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(_THREAD_TIMEOUT_S)

    def __enter__(self) -> "RunningReference":
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()


def start(
    behaviour: Behaviour = CONFORMING, latency_s: float = 0.0, preexisting_keys: int = 1, port: int = 0
) -> RunningReference:
    """A listening deployment; port 0 lets the kernel choose."""
    signing_key()  # generated here, once per process, so no request pays for it
    deployment = Deployment(behaviour)
    owner = credentials_owner(deployment.users, behaviour)
    created = [create_key(deployment, owner, f"preexisting-{number}", "") for number in range(1, preexisting_keys + 1)]
    listener = _listening_socket(port)
    app = build_app(deployment, latency_s)
    if behaviour.dates_answers:
        app = _DatedByDeploymentClock(app, deployment)
    if behaviour.oversized_authorization == "closed":
        app = _ClosedOnOversizedAuthorization(app, deployment)
    # uvicorn would date every response by the host's clock; the deployment's own clock does.
    config = uvicorn.Config(
        app, log_level="warning", access_log=False, lifespan="off", date_header=False, http=_ClosableConnections
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, name="reference-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + _THREAD_TIMEOUT_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            listener.close()
            raise RuntimeError("the reference server did not start")
        time.sleep(0.002)
    bound_port = listener.getsockname()[1]
    credentials = _credentials(behaviour.flow, created[0]) if created else {}
    return RunningReference(f"http://{HOST}:{bound_port}", credentials, deployment, server, thread)


class _DatedByDeploymentClock:
    """Sets every response's Date header from the deployment's clock (Deployment.now()), moved for a
    request that asks with the clock key (clock_control.CLOCK_HEADER)."""

    def __init__(self, app: ASGIApp, deployment: Deployment):
        self.app = app
        self.deployment = deployment

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            # Set in this request's own context (its task): no other request sees it.
            REQUEST_CLOCK_OFFSET_S.set(requested_offset_s(scope["headers"]))

        async def send_dated(message: Message) -> None:
            if message["type"] == "http.response.start":
                date = formatdate(self.deployment.now(), usegmt=True).encode()
                message = {**message, "headers": [*message.get("headers", []), (b"date", date)]}
            await send(message)

        await self.app(scope, receive, send_dated if scope["type"] == "http" else send)


class _ClosableConnections(H11Protocol):
    """uvicorn's HTTP/1.1 protocol, offering the application a way to close the connection without
    answering (no ASGI message does that: a response start writes the status line, and an application
    that ends without one gets a 500), and a dict that lives as long as the connection
    (Behaviour.connection_remembers_user keeps its user there)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        serve = self.app
        connection_state: dict = {}

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            offered = {_CLOSE_CONNECTION: self.transport.close, CONNECTION_STATE: connection_state}
            await serve({**scope, **offered}, receive, send)

        self.app = app


class _ClosedOnOversizedAuthorization:
    """Closes the connection, unanswered, on a request whose Authorization header is over
    auth.OVERSIZED_BYTES (Behaviour.oversized_authorization "closed"), as RFC 9112 section 9.6 lets a
    server do with a request it will not serve."""

    def __init__(self, app: ASGIApp, deployment: Deployment):
        self.app = app
        self.deployment = deployment

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _oversized_authorization(scope):
            await self.app(scope, receive, send)
            return
        self.deployment.count_request()
        scope[_CLOSE_CONNECTION]()
        # Returning at once would make uvicorn send a 500 (into the closing connection, and log an
        # error): once it has seen the connection go, an application that sent nothing is left alone.
        while (await receive())["type"] != "http.disconnect":
            pass


def _oversized_authorization(scope: Scope) -> bool:
    return any(name == b"authorization" and len(value) > OVERSIZED_BYTES for name, value in scope["headers"])


def _listening_socket(port: int) -> socket.socket:
    """Bound and listening before the server thread starts, so the port is known at once.

    The protocol is named explicitly: asyncio only sets TCP_NODELAY on connections accepted from a
    socket whose proto is IPPROTO_TCP, and without it every response waits ~40 ms (Nagle's
    algorithm against delayed ACKs).
    """
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((HOST, port))
    listener.listen()
    return listener


def _credentials(flow: str, created: dict) -> dict[str, str]:
    if flow == "aksk":
        return {"ak": created["id"], "sk": created["token"]}
    return {"access_key": created["token"]}
