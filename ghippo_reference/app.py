"""The HTTP surface: the route table, how every response body is written, and the error pages.

Handlers return plain dicts; `_render` alone decides how JSON goes out, so the knobs that change
the shape of every response (extra fields, field order, content type) live in one place.
"""

import asyncio
import base64
import json
import secrets
import uuid
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ghippo_reference.auth import FORM_ACCESS_TOKEN, SESSION_COOKIE, SESSION_CREDENTIAL
from ghippo_reference.behaviour import Behaviour
from ghippo_reference.errors import NO_ROUTE, NON_NORMAL_PATH, SERVER_FAULT, ApiError
from ghippo_reference.keys import create_access_key, delete_access_key, exchange_key_pair, list_access_keys
from ghippo_reference.leniency import PATH_REFUSED, method_routed, overriding_method, routed
from ghippo_reference.published_keys import key_set
from ghippo_reference.state import Deployment
from ghippo_reference.users import current_user, list_users

BASE_PATH = "/apis/ghippo.io/v1alpha1"
# The documentation names this path for the token exchange but its example calls BASE_PATH/token.
DOCUMENTED_TOKEN_PATH = "/api/v1/cube/key/token"
_EXTRA_FIELD = {"x-extra": "ignored by conforming clients"}
# json.dumps arguments by Behaviour.json_style: one line of raw UTF-8, or indented with \u escapes.
_JSON_STYLES = {
    "compact": {"ensure_ascii": False, "separators": (",", ":")},
    "pretty-ascii": {"ensure_ascii": True, "indent": 2},
}
_FORM_ENCODED = b"application/x-www-form-urlencoded"


# The token paths served, by Behaviour.token_routes.
_TOKEN_PATHS = {
    "both": (f"{BASE_PATH}/token", DOCUMENTED_TOKEN_PATH),
    "example-path-only": (f"{BASE_PATH}/token",),
    "text-path-only": (DOCUMENTED_TOKEN_PATH,),
}


def build_app(deployment: Deployment, latency_s: float = 0.0) -> Starlette:
    routes = [
        *(Route(path, _endpoint(exchange_key_pair)) for path in _TOKEN_PATHS[deployment.behaviour.token_routes]),
        Route(f"{BASE_PATH}/users", _endpoint(list_users)),
        Route(f"{BASE_PATH}/current-user", _endpoint(current_user)),
        Route(f"{BASE_PATH}/current-user/accesstoken", _endpoint(create_access_key), methods=["POST"]),
        Route(f"{BASE_PATH}/current-user/accesstokens", _endpoint(list_access_keys)),
        Route(f"{BASE_PATH}/current-user/accesstokens/{{key_id}}", _endpoint(delete_access_key), methods=["DELETE"]),
        Route(f"{BASE_PATH}/certs", _endpoint(_certs)),
    ]
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(_CountThenDelay, deployment=deployment, latency_s=latency_s),
            Middleware(_RoutedAsBehaviourSays, behaviour=deployment.behaviour),
            *([Middleware(_ExtraHeaders, deployment=deployment)] if _adds_headers(deployment.behaviour) else []),
            *_transport_middleware(deployment.behaviour),
            *([Middleware(_FormBodyRead)] if deployment.behaviour.token_from_form else []),
        ],
        exception_handlers={
            ApiError: _error_response,
            HTTPException: _no_route,  # unknown paths and wrong methods alike
            Exception: _server_fault,
        },
    )
    # A trailing slash is another path, not a redirect: anything unknown is a 404 error body.
    app.router.redirect_slashes = False
    app.state.deployment = deployment
    return app


async def _certs(request: Request, deployment: Deployment) -> dict | str:
    return key_set(deployment.behaviour)


def _endpoint(handler: Callable[[Request, Deployment], Awaitable[dict]]):
    async def endpoint(request: Request) -> Response:
        deployment = request.app.state.deployment
        response = _render(await handler(request, deployment), deployment.behaviour)
        credential = request.scope.get(SESSION_CREDENTIAL)
        if credential is not None:
            # A console's session (Behaviour.session_cookie): opened with each answer to a request its
            # Authorization header authenticated.
            response.set_cookie(SESSION_COOKIE, deployment.open_session(credential), httponly=True, samesite="strict")
        return response

    return endpoint


def _render(payload: dict | str, behaviour: Behaviour, status: int = 200, headers: dict | None = None) -> Response:
    if isinstance(payload, str):
        return PlainTextResponse(payload, status, headers)
    if behaviour.extra_fields:
        payload = _with_extra_fields(payload)
    if behaviour.reverse_field_order:
        payload = _reversed(payload)
    body = json.dumps(payload, **_JSON_STYLES[behaviour.json_style])
    media_type = "application/json" if behaviour.json_content_type else "text/plain"
    return Response(body, status, headers, media_type=media_type)


def _with_extra_fields(payload: dict) -> dict:
    shaped = {**payload, **_EXTRA_FIELD}
    if isinstance(payload.get("items"), list):
        shaped["items"] = [{**item, **_EXTRA_FIELD} for item in payload["items"]]
    return shaped


def _reversed(value):
    if isinstance(value, dict):
        return {name: _reversed(value[name]) for name in reversed(value)}
    if isinstance(value, list):
        return [_reversed(item) for item in value]
    return value


async def _error_response(request: Request, error: ApiError) -> Response:
    deployment = request.app.state.deployment
    newest = deployment.keys.newest()
    last_write = f"stored access key {newest.id} with secret {newest.secret}" if newest else ""
    status, body, headers = error.response_parts(deployment.behaviour, last_write)
    return _render(body, deployment.behaviour, status, headers)


async def _no_route(request: Request, error: HTTPException) -> Response:
    return await _error_response(request, ApiError(NO_ROUTE))


async def _server_fault(request: Request, error: Exception) -> Response:
    return await _error_response(request, ApiError(SERVER_FAULT))


def _transport_middleware(behaviour: Behaviour) -> list[Middleware]:
    """What the HTTP layer adds around every answer: gzip coding, closing the connection."""
    layers = []
    if behaviour.gzip_responses:
        layers.append(Middleware(GZipMiddleware, minimum_size=0))  # only when Accept-Encoding names gzip
    if behaviour.connection_close:
        layers.append(Middleware(_CloseConnection))
    return layers


class _CloseConnection:
    """Sends `Connection: close` with every response, so the server closes the connection after it."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_closing(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), (b"connection", b"close")]}
            await send(message)

        await self.app(scope, receive, send_closing if scope["type"] == "http" else send)


def _form_encoded(scope: Scope) -> bool:
    content_type = dict(scope.get("headers", [])).get(b"content-type", b"")
    return content_type.split(b";")[0].strip().lower() == _FORM_ENCODED


async def _body(receive: Receive) -> bytes:
    body, more_body = b"", True
    while more_body:
        message = await receive()
        body += message.get("body", b"")
        more_body = message.get("more_body", False)
    return body


def _replaying(body: bytes, receive: Receive) -> Receive:
    """`receive` for an application after the body was read: the body once, then what `receive` gives."""
    replayed = False

    async def receive_again() -> Message:
        nonlocal replayed
        if replayed:
            return await receive()
        replayed = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive_again


def _form_fields(body: bytes) -> dict[str, str]:
    return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))


def _adds_headers(behaviour: Behaviour) -> bool:
    return behaviour.debug_header != "none" or behaviour.answer_cookie != "none"


class _ExtraHeaders:
    """Adds to every answer the header Behaviour.debug_header names and the cookie Behaviour.answer_cookie
    names; the secret some of them disclose is that of the newest key the deployment made."""

    def __init__(self, app: ASGIApp, deployment: Deployment):
        self.app = app
        self.deployment = deployment

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_extras(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *self._extras()]}
            await send(message)

        await self.app(scope, receive, send_with_extras if scope["type"] == "http" else send)

    def _extras(self) -> list[tuple[bytes, bytes]]:
        behaviour, newest = self.deployment.behaviour, self.deployment.keys.newest()
        extras = []
        if behaviour.debug_header == "request-id":
            extras.append((b"x-request-id", str(uuid.uuid4()).encode()))
        if behaviour.debug_header == "newest-key-secret" and newest:
            extras.append((b"x-debug-token", newest.secret.encode()))
        if behaviour.answer_cookie == "random-id":
            extras.append((b"set-cookie", f"ghippo_session={secrets.token_hex(16)}; Path=/; HttpOnly".encode()))
        if behaviour.answer_cookie == "readable-with-newest-key-secret" and newest:
            session = json.dumps({"keyId": newest.id, "secret": newest.secret}, separators=(",", ":")).encode()
            readable = base64.urlsafe_b64encode(session).rstrip(b"=").decode()
            # Flask's cookie: payload.timestamp.signature, signed but readable by anyone who holds it.
            extras.append(
                (b"set-cookie", f"session={readable}.Z2hpcA.{secrets.token_urlsafe(20)}; Path=/; HttpOnly".encode())
            )
        return extras


class _FormBodyRead:
    """Reads a form-encoded body (Behaviour.token_from_form) as a framework that takes RFC 6750 section 2.2
    credentials does: its access_token is the bearer (left in the scope for auth.py), its other fields
    are the operation's, handed on as the JSON body the handlers read."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _form_encoded(scope):
            await self.app(scope, receive, send)
            return
        fields = _form_fields(await _body(receive))
        token = fields.pop("access_token", None)
        as_json = json.dumps(fields).encode()
        kept = [(name, value) for name, value in scope["headers"] if name not in (b"content-type", b"content-length")]
        headers = kept + [(b"content-type", b"application/json"), (b"content-length", str(len(as_json)).encode())]
        await self.app({**scope, "headers": headers, FORM_ACCESS_TOKEN: token}, _replaying(as_json, receive), send)


class _RoutedAsBehaviourSays:
    """Gives the router the path and the method the Behaviour says it reads (leniency.routed,
    leniency.method_routed), marking the requests that skip authentication; a path the router refuses
    gets 400."""

    def __init__(self, app: ASGIApp, behaviour: Behaviour):
        self.app = app
        self.behaviour = behaviour

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope = routed(scope, self.behaviour)
        if scope.get(PATH_REFUSED):
            response = await _error_response(Request(scope), ApiError(NON_NORMAL_PATH))
            await response(scope, receive, send)
            return
        form: dict[str, str] = {}
        if self.behaviour.method_routing == "override-honoured" and scope["method"] == "POST" and _form_encoded(scope):
            body = await _body(receive)
            form, receive = _form_fields(body), _replaying(body, receive)
        documented = _documented_method(scope["app"].router.routes, scope["path"])
        await self.app(method_routed(scope, self.behaviour, overriding_method(scope, form), documented), receive, send)


def _documented_method(routes: list[BaseRoute], path: str) -> str | None:
    """The method of the route at `path` (HEAD, which a GET route also takes, aside), or None without one."""
    for route in routes:
        if isinstance(route, Route) and route.methods and route.path_regex.match(path):
            return next(method for method in sorted(route.methods) if method != "HEAD")
    return None


class _CountThenDelay:
    """Counts every request (self-tests) and delays every response (benchmarks).

    Counting on arrival means a client that holds a response always sees it counted.
    """

    def __init__(self, app: ASGIApp, deployment: Deployment, latency_s: float):
        self.app = app
        self.deployment = deployment
        self.latency_s = latency_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.deployment.count_request()
            if self.latency_s:
                await asyncio.sleep(self.latency_s)
        await self.app(scope, receive, send)
