"""The one HTTP helper: every request the suite sends goes through `Api.send`.

Each exchange is recorded so that a failing assertion can show the request that was sent and
what came back, with secrets redacted and control characters made inert. Secrets the deployment
hands out (a `token` field in a JSON response) are registered with the redactor as soon as they arrive,
and every answer is searched for the secrets the run already knows (deployment/leaks.py).

A broken deployment cannot hold the run, exhaust its memory or get its credentials: each exchange
has a deadline, connect to the last byte of the body (--request-timeout); a body is read up to a
cap counted after decompression (--max-body-mib); redirects are never followed, so nothing the
suite sends leaves the base URL's origin. A timeout or a broken connection fails the request that
met it, never retried; after STOP_AFTER of them in a row (one, once the run was interrupted) the
deployment has stopped answering, and every later request is skipped at once.

No state travels from one request to the next unless a check asks for it: no cookie is kept (a
deployment that also keeps a console's web session must not see its cookie come back on a request
meant to carry no credentials), and a request without an Authorization header never rides a
connection that carried one (NTLM and Negotiate authenticate connections, not requests, and a
gateway may too): it has a connection pool of its own. Every answer's Date header feeds the
deployment's clock (deployment/clock.py), the runner's clock being no judge of the deployment's times.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx
import pytest

from ghippo_conformance.deployment.clock import DeploymentClock
from ghippo_conformance.deployment.deadline import Deadline, DeadlineTransport
from ghippo_conformance.deployment.inert import inert
from ghippo_conformance.deployment.leaks import Leak, LeakWatch
from ghippo_conformance.deployment.redact import Redactor
from ghippo_conformance.deployment.replay import CURL_LABEL, Replay

_BODY_LIMIT = 600
_KEPT_EXCHANGES = 6
_MIB = 1 << 20
DEFAULT_MAX_BODY_MIB = 8
DEFAULT_REQUEST_TIMEOUT_S = 10.0
_FIRST_BYTES = 200  # of a body over the cap, shown as evidence
_INFLATE_STEP = 64 * 1024  # the most a compressed body inflates at a time
_WBITS = {"gzip": zlib.MAX_WBITS | 16, "x-gzip": zlib.MAX_WBITS | 16, "deflate": zlib.MAX_WBITS}
# Transport failures in a row (timeouts, resets, refused connections) after which the deployment
# has stopped answering: one may be a glitch, several mean every later request would wait for
# its deadline too.
STOP_AFTER = 3
# Each request's deadline once the run was interrupted, or for the last chance the end of the run
# gives a deployment that stopped answering: together they keep an interrupted run's end short.
HURRIED_DEADLINE_S = 3.0


_RESOURCE_EXHAUSTED = 8
# RFC 9110 section 9.2.1: methods that change nothing on the server; a dry run lists every other request.
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# How `Api.send` writes the request target. "normalised": as httpx builds it from the URL, dot segments
# resolved (RFC 3986 section 5.2.4) and a fragment left out. "as-written": the base URL's path and
# `path` byte for byte, then the query; "absolute-form": the same after the base URL's scheme and
# authority (RFC 9112 section 3.2.2). The last two go to httpcore as its "target" request extension,
# which httpx hands on and httpcore sends in place of the URL's path.
Target = Literal["normalised", "as-written", "absolute-form"]


class RateLimited(pytest.skip.Exception):
    """The deployment's own rate limiting answered (429): not a conformance verdict, so the test
    is skipped with that reason instead of failing."""


class StoppedAnswering(pytest.skip.Exception):
    """The deployment stopped answering earlier in the run: the request was not sent."""


class BodyTooLarge(httpx.RequestError):
    """The deployment answered with a body over the cap; the rest of it was not read."""


def _is_rate_limiting(response: httpx.Response) -> bool:
    # grpc-gateway also maps the API's RESOURCE_EXHAUSTED (a quota such as the key limit) to 429;
    # that one carries a gRPC error body with code 8 and is an answer the tests judge.
    if response.status_code != 429:
        return False
    body = _json_or_none(response)
    return not (isinstance(body, dict) and body.get("code") == _RESOURCE_EXHAUSTED)


@dataclass
class Exchange:
    method: str
    url: str
    request_headers: list[tuple[str, str]]  # in the order sent; a name may repeat
    request_body: Any
    response: httpx.Response
    redact: Redactor = field(repr=False)
    request_form: dict[str, str] | None = None
    # The runner's clock when the request went out and when its answer's headers came.
    answered_within: tuple[float, float] | None = None
    # The runner's end of the connection it went over (host:port).
    connection: str | None = None
    replay: Replay = field(default_factory=Replay, repr=False)
    target: Target = "normalised"
    leaks: tuple[Leak, ...] = field(default=(), repr=False)  # known secrets the answer carries (leaks.py)

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
        return _json_or_none(self.response)

    def evidence(self) -> str:
        """The exchange as a reader of a failure needs it: request, status, headers, body, and the
        request as a curl line to send it again."""
        sent = _sent(self.method, self.url, self.request_headers, self.request_body, self.request_form, self.target)
        curl = self.replay.curl(
            self.method, self.url, self.request_headers, self.request_body, self.request_form, self.redact
        )
        body = self.text
        if len(body) > _BODY_LIMIT:
            body = body[:_BODY_LIMIT] + f"… ({len(self.text)} chars)"
        content_type = self.headers.get("content-type", "-")
        challenge = self.headers.get("www-authenticate")
        got = f"{self.status} ({content_type})" + (f" WWW-Authenticate: {challenge}" if challenge else "")
        return inert(self.redact(f"  sent: {sent}\n  got:  {got} {body}\n{CURL_LABEL}{curl}"))


def _json_or_none(response: httpx.Response) -> Any:
    """The JSON body, or None when it is not JSON, or nested deeper than the decoder's recursion allows
    (a hostile deployment's `[[[[…]]]]` must not crash the suite)."""
    try:
        return response.json()
    except (ValueError, RecursionError):
        return None


def _sent(
    method: str,
    url: str,
    headers: list[tuple[str, str]],
    body: Any,
    form: dict[str, str] | None = None,
    target: Target = "normalised",
) -> str:
    """A request as evidence shows it (before redaction). A form's fields are shown as JSON, not
    percent-encoded as sent: a secret in one stays as the redactor knows it. A target sent as written
    says so: a client that would resolve its dot segments would not send the same request."""
    listed = "; ".join(f"{k}: {v}" for k, v in headers)
    written = {"as-written": " (target sent as written)", "absolute-form": " (absolute-form target)"}.get(target, "")
    sent = f"{method} {url}{written}" + (f" [{listed}]" if listed else "")
    sent += f" body={json.dumps(body)}" if body is not None else ""
    return sent + (f" form={json.dumps(form)}" if form is not None else "")


def _decoded(response: httpx.Response) -> Iterator[bytes]:
    """The body as its Content-Encoding says to read it, inflated a bounded step at a time: a gzip
    bomb grows no further than the reader asks. Encodings other than gzip and deflate (the only
    ones the client offers) are left as they came, as httpx leaves those it does not know."""
    chunks: Iterator[bytes] = response.iter_raw()
    codings = [coding.strip().lower() for coding in response.headers.get("content-encoding", "").split(",")]
    for coding in reversed(codings):
        if coding in _WBITS:
            chunks = _inflate(chunks, _WBITS[coding])
    return chunks


def _inflate(chunks: Iterator[bytes], wbits: int) -> Iterator[bytes]:
    inflater = zlib.decompressobj(wbits)
    try:
        for chunk in chunks:
            piece = inflater.decompress(chunk, _INFLATE_STEP)
            yield piece
            # A full step may leave output pending even once the input is consumed.
            while inflater.unconsumed_tail or len(piece) == _INFLATE_STEP:
                piece = inflater.decompress(inflater.unconsumed_tail, _INFLATE_STEP)
                yield piece
    except zlib.error as error:
        raise httpx.DecodingError(f"the body does not decode as its Content-Encoding says ({error})") from None


def _read_capped(response: httpx.Response, limit: int) -> tuple[bytes, bool]:
    """The decoded body and False, or, when it is longer than `limit`, its first bytes and True.
    The reading stops at the cap, so a gzip bomb or an endless body never comes in whole, and only
    the first bytes outlive this call (a traceback that keeps the caller's frames keeps no body)."""
    body = bytearray()
    for chunk in _decoded(response):
        body += chunk
        if len(body) > limit:
            return bytes(body[:_FIRST_BYTES]), True
    return bytes(body), False


def _local_end(response: httpx.Response) -> str | None:
    """host:port of the runner's end of the connection the response came over (HTTP/1.1 streams say)."""
    stream = response.extensions.get("network_stream")
    address = stream.get_extra_info("client_addr") if stream is not None else None
    return f"{address[0]}:{address[1]}" if isinstance(address, tuple) and len(address) >= 2 else None


class Api:
    """A keep-alive client bound to one deployment, recording what it sends and receives."""

    def __init__(
        self,
        base_url: str,
        redactor: Redactor,
        *,
        verify: bool | str = True,
        timeout: float = DEFAULT_REQUEST_TIMEOUT_S,
        max_rps: float | None = None,
        max_body_mib: int = DEFAULT_MAX_BODY_MIB,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._base_path = urlsplit(self.base_url).path
        self.redact = redactor
        self.replay = Replay.for_verify(verify)  # the run's requests as curl lines, in its evidence
        self._deadline = Deadline()
        self._verify = verify
        self._client = self._new_client()  # requests that present an Authorization header
        self._client_without_credentials = self._new_client()
        self._one_connection: httpx.Client | None = None
        self.clock = DeploymentClock()
        self._timeout = timeout
        self._max_body_mib = max_body_mib
        self._min_interval = 1.0 / max_rps if max_rps else 0.0
        self._last_send = 0.0
        # Seconds this process has waited to keep --max-rps, and who is told each time it waits (the
        # console's progress): a run held back by its own pacing says so rather than going quiet.
        self.paced_s = 0.0
        self.on_pacing: Callable[[float], None] | None = None
        self._lock = threading.Lock()
        # Requests are numbered as sent: "in a row" is in that order, not in the order concurrent
        # requests (checks/batch.py) come back, where a deployment failing one in three would show
        # three failures together. An unanswered request's number is kept; any other is answered or in flight.
        self._sent = itertools.count(1)
        self._unanswered_numbers: set[int] = set()
        self._tally = threading.Lock()
        self._last_chance = False
        self._hurried = False
        self.stopped_answering_at: str | None = None  # UTC, once STOP_AFTER transport failures came in a row
        self._why_stopped = ""
        self.request_count = 0
        self.recent: list[Exchange] = []
        self.state_changes: list[tuple[str, str]] = []  # (method, path) of every request of a method not safe
        self.leaks = LeakWatch(redactor)

    def send(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
        form: dict[str, str] | None = None,
        bearer: str | None = None,
        authorization: str | None = None,
        headers: Sequence[tuple[str, str]] = (),
        target: Target = "normalised",
    ) -> Exchange:
        """Send one request; `bearer` sets `Authorization: Bearer …`, `authorization` sets it verbatim,
        `headers` adds (name, value) pairs as given, a name repeated if it is listed twice; `form` is
        sent as an application/x-www-form-urlencoded body; `target` says how `path` goes on the
        request line (Target)."""
        if bearer is not None and authorization is None:
            authorization = f"Bearer {bearer}"
        headers = [*([("Authorization", authorization)] if authorization is not None else []), *headers]
        if self.stopped_answering_at and not self._last_chance:
            raise StoppedAnswering(
                f"the deployment stopped answering at {self.stopped_answering_at} "
                f"({self._why_stopped}); this request was not sent"
            )
        self._pace()
        if method not in _SAFE_METHODS:
            self.state_changes.append((method, path))
        client = self._client_for(headers)
        request = client.build_request(
            method,
            self.base_url + (path if target == "normalised" else ""),
            params=params,
            json=json_body,
            data=form,
            headers=headers,
        )
        url = self._written(request, path, target)
        sent, deadline_s = _sent(method, url, headers, json_body, form, target), self._deadline_s()

        def sent_again() -> str:
            """What was sent, and the curl line that sends it again: rendered only for a request that fails here."""
            curl = self.replay.curl(method, url, headers, json_body, form, self.redact)
            return f"{sent}\n{CURL_LABEL}{curl}"

        number = next(self._sent)
        try:
            response, over_cap, answered_within, connection = self._exchange(client, request, deadline_s)
        except KeyboardInterrupt:
            self.hurry()  # Ctrl-C or SIGTERM: what the run still sends on its way out is sent in a hurry
            raise
        except httpx.TransportError as error:
            raise self._unanswered(error, request, sent_again(), deadline_s, number) from error
        self.request_count += 1
        if over_cap:
            first = response.content.decode("utf-8", "replace")
            raise BodyTooLarge(
                inert(
                    self.redact(
                        f"body larger than {self._max_body_mib} MiB; first bytes {first!r}…\n  sent: {sent_again()}"
                    )
                ),
                request=request,
            )
        exchange = Exchange(
            method,
            url,
            headers,
            json_body,
            response,
            self.redact,
            form,
            answered_within=answered_within,
            connection=connection,
            replay=self.replay,
            target=target,
        )
        exchange.leaks = self.leaks.inspect(exchange)  # before the answer's own token is known: it may hand it out
        self.clock.learn_date(exchange)
        if _is_rate_limiting(response):
            raise RateLimited(
                f"rate limited: the deployment answered 429 to {method} {path}; lower --max-rps "
                f"(now {1 / self._min_interval if self._min_interval else 'unlimited'} per process)"
            )
        self._register_secrets(method, path, response)
        self.recent = [*self.recent[-(_KEPT_EXCHANGES - 1) :], exchange]
        return exchange

    def _new_client(self) -> httpx.Client:
        # A redirect is an answer the tests judge, never followed: the credentials stay with the
        # base URL's origin. No environment settings either: no proxy, no .netrc credentials. No
        # cookie either: a jar whose policy allows no domain keeps none and sends none back.
        return httpx.Client(
            transport=DeadlineTransport(self._deadline, self._verify),
            follow_redirects=False,
            trust_env=False,
            cookies=CookieJar(DefaultCookiePolicy(allowed_domains=[])),
            headers={"Accept-Encoding": "gzip, deflate"},  # what _decoded inflates, whatever httpx could
        )

    def _client_for(self, headers: Sequence[tuple[str, str]]) -> httpx.Client:
        """The connections a request goes over: one_connection's, or a pool of their own for requests
        without an Authorization header, so that none rides a connection some credential authenticated."""
        if self._one_connection is not None:
            return self._one_connection
        presents_credentials = any(name.lower() == "authorization" for name, _ in headers)
        return self._client if presents_credentials else self._client_without_credentials

    @contextmanager
    def one_connection(self) -> Iterator[None]:
        """Send every request made inside, whatever it carries, over one keep-alive connection of its own
        (a new one only where the deployment closed it): for the check that asks whether a connection keeps
        what an earlier request on it presented. Not for concurrent requests."""
        self._one_connection = self._new_client()
        try:
            yield
        finally:
            self._one_connection.close()
            self._one_connection = None

    def _written(self, request: httpx.Request, path: str, target: Target) -> str:
        """The URL the request goes to, as evidence shows it; a target other than "normalised" is set
        on `request` (built for the base URL alone, with the query) as the bytes to send."""
        if target == "normalised":
            return str(request.url)
        query = request.url.query.decode("ascii")
        before = self.base_url if target == "absolute-form" else self._base_path
        written = before + path + (f"?{query}" if query else "")
        request.extensions["target"] = written.encode("ascii")
        return written if target == "absolute-form" else self.base_url.removesuffix(self._base_path) + written

    def hurry(self) -> None:
        """The run was interrupted: every later request gets the short deadline."""
        self._hurried = True

    @contextmanager
    def last_chance(self) -> Iterator[None]:
        """Let the end of the run send even after the deployment stopped answering (the run's keys
        may still be removable), each request with the short deadline; the first transport failure
        ends the chance."""
        self._last_chance = True
        try:
            yield
        finally:
            self._last_chance = False

    def _deadline_s(self) -> float:
        hurried = self._hurried or self.stopped_answering_at
        return min(self._timeout, HURRIED_DEADLINE_S) if hurried else self._timeout

    def _exchange(
        self, client: httpx.Client, request: httpx.Request, deadline_s: float
    ) -> tuple[httpx.Response, bool, tuple[float, float], str | None]:
        """The response with its body read; whether the body was over the cap (then the response
        holds only its first bytes); the runner's clock when the request went out and when the headers
        came; the runner's end of the connection."""
        with self._deadline.within(deadline_s):
            sent_at = time.time()
            response = client.send(request, stream=True)
            answered_within = (sent_at, time.time())
            connection = _local_end(response)
            try:
                body, over_cap = _read_capped(response, self._max_body_mib * _MIB)
            finally:
                response.close()
        # httpx keeps a read body in `_content`; this one was read here, decoded and capped, and a
        # response built anew from it would decode it a second time.
        response._content = body
        return response, over_cap, answered_within, connection

    def _unanswered(
        self, error: httpx.TransportError, request: httpx.Request, sent: str, deadline_s: float, number: int
    ) -> httpx.TransportError:
        """The same error, saying what was sent; counted towards the deployment's stopping to answer."""
        self._last_chance = False
        if isinstance(error, httpx.TimeoutException):
            what = f"no complete answer within the {deadline_s:g} s deadline ({error})"
        else:
            what = f"the connection failed ({error or type(error).__name__})"
        # On its way out after an interrupt the run waits for no second request: one unanswered is enough.
        stop_after = 1 if self._hurried else STOP_AFTER
        with self._tally:
            self._unanswered_numbers.add(number)
            in_a_row = any(
                self._unanswered_numbers.issuperset(range(first, first + stop_after))
                for first in range(number - stop_after + 1, number + 1)
            )
        if in_a_row and not self.stopped_answering_at:
            self.stopped_answering_at = datetime.now(UTC).isoformat(timespec="seconds")
            self._why_stopped = (
                "a request got no answer after the run was interrupted"
                if self._hurried
                else f"{STOP_AFTER} requests in a row got no answer"
            )
            what += f"; {self._why_stopped}: the run sends nothing more"
        return type(error)(inert(self.redact(f"{what}\n  sent: {sent}")), request=request)

    def get(self, path: str, **kwargs: Any) -> Exchange:
        return self.send("GET", path, **kwargs)

    def close(self) -> None:
        self._client.close()
        self._client_without_credentials.close()

    def _pace(self) -> None:
        if not self._min_interval:
            return
        with self._lock:
            wait = self._last_send + self._min_interval - time.monotonic()
            if wait > 0:
                self.paced_s += wait
                if self.on_pacing is not None:
                    self.on_pacing(self.paced_s)
                time.sleep(wait)
            self._last_send = time.monotonic()

    def _register_secrets(self, method: str, path: str, response: httpx.Response) -> None:
        body = _json_or_none(response)
        if isinstance(body, dict) and isinstance(body.get("token"), str):
            self.redact.add(body["token"], f"a secret handed out by {method} {path}")
