"""Assertions that say what was expected, what came back, and show the exchange behind it."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

from ghippo_conformance import json_schemas
from ghippo_conformance.deployment import leaks
from ghippo_conformance.deployment.http import Exchange


def _fail(message: str, exchanges: Iterable[Exchange]) -> None:
    evidence = "\n".join(e.evidence() for e in exchanges)
    raise AssertionError(f"{message}\n{evidence}" if evidence else message)


def that(condition: Any, message: str, *exchanges: Exchange) -> None:
    """Fail with `message` and the exchanges' evidence unless `condition` holds."""
    __tracebackhide__ = True
    if not condition:
        _fail(message, exchanges)


def status(exchange: Exchange, expected: int | Collection[int], what: str) -> None:
    __tracebackhide__ = True
    allowed = {expected} if isinstance(expected, int) else set(expected)
    that(
        exchange.status in allowed, f"expected {statuses_in_words(allowed)} for {what}, got {exchange.status}", exchange
    )


def statuses_in_words(allowed: Collection[int]) -> str:
    """ "200 or a 4xx", not a hundred numbers: a whole class of statuses is named as one."""
    allowed = set(allowed)
    whole = sorted(c for c in {code // 100 for code in allowed} if allowed >= set(range(c * 100, c * 100 + 100)))
    single = sorted(code for code in allowed if code // 100 not in whole)
    return " or ".join([*map(str, single), *(f"a {c}xx" for c in whole)])


def json_body(exchange: Exchange, what: str) -> Any:
    __tracebackhide__ = True
    body = exchange.json()
    that(body is not None, f"expected a JSON body for {what}, got none", exchange)
    return body


def conforms(instance: Any, schema: str, what: str, *exchanges: Exchange) -> None:
    __tracebackhide__ = True
    problems = json_schemas.errors(instance, schema)
    that(not problems, f"{what} does not match schemas/{schema}.json: {'; '.join(problems[:3])}", *exchanges)


def error_body(exchange: Exchange, what: str) -> dict:
    """The exchange's body, which must be an error body ({code, message, details})."""
    __tracebackhide__ = True
    body = exchange.json()
    that(body is not None, f"expected an error body (JSON) for {what}, got none", exchange)
    conforms(body, "error", f"the error body for {what}", exchange)
    return body


def no_token_issued(exchange: Exchange, what: str) -> None:
    __tracebackhide__ = True
    status(exchange, range(400, 500), what)
    body = exchange.json()
    that(not (isinstance(body, dict) and body.get("token")), f"a token was issued for {what}", exchange)


def refused(exchange: Exchange, profile: Any, what: str, *, syntax_error: bool = False) -> None:
    """The profile's unauthenticated status, or (for a broken header) a syntax-error status."""
    __tracebackhide__ = True
    allowed = {profile.auth.unauthenticated_status}
    if syntax_error:
        allowed |= set(profile.auth.syntax_error_statuses)
    status(exchange, allowed, what)


def not_carried(exchange: Exchange, secret: str, message: str) -> None:
    """The answer carries `secret` nowhere, in its body or headers, whole, percent- or base64-encoded;
    else fail with `message` and where the secret was found."""
    __tracebackhide__ = True
    where = leaks.carried(exchange, secret)
    that(where is None, f"{message} ({where})", exchange)
