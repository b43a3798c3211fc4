"""Every way a request can reach a protected operation: the methods a router maps onto it, and the
spellings of its path that routers, servlet containers, proxies and gateways resolve differently from
an auth rule in front of them. A deployment that authenticates the documented request and serves
HEAD, a POST overriding its method, `..;/` or an encoded slash without credentials is bypassed.

The methods are rows of fixtures/cases/request-methods.toml, the spellings rows of
fixtures/cases/path-spellings.toml, each with the advisory or RFC it comes from. A spelling is sent
as written (`Api.send(target=…)`): httpx would resolve its dot segments and drop its fragment.
The requests go out side by side through checks/batch.py; `serves_nothing` judges each answer.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import httpx

from ghippo_conformance.checks import batch, cases, expect

METHODS = "request-methods"
SPELLINGS = "path-spellings"
FORM_CONTENT_TYPE = ("Content-Type", "application/x-www-form-urlencoded")


def method_rows() -> tuple[dict, ...]:
    return cases.load(METHODS)


def spelling_rows() -> tuple[dict, ...]:
    return cases.load(SPELLINGS)


def method_request(key: Hashable, row: dict, documented: str, path: str) -> batch.Request:
    """The operation documented as `documented` at the concrete `path`, reached as the methods row says,
    without credentials."""
    headers: list[tuple[str, str]] = []
    arguments: dict = {}
    if row["override_in"] == "header":
        headers.append((row["override_name"], documented))
    elif row["override_in"] == "query":
        arguments["params"] = {row["override_name"]: documented}
    if row["override_in"] == "form":
        arguments["form"] = {row["override_name"]: documented}
    elif row["form_body"]:
        headers.append(FORM_CONTENT_TYPE)  # an empty form: httpx sends no content type for one
    return batch.Request(key, path, {**arguments, "headers": headers}, row["method"])


def spelt(row: dict, path: str) -> str:
    """The documented `path` spelt as the spellings row says."""
    parent, _, last = path.rpartition("/")
    return row["target"].format(path=path, parent=parent, last=last)


def reads_spelt(row: dict, reads: Sequence[str]) -> Sequence[str]:
    """The protected reads a spellings row goes to: each of them, or (most rows) the first, the users list."""
    return reads if row["every_protected_read"] else reads[:1]


def spelling_request(key: Hashable, row: dict, path: str) -> batch.Request:
    """The read operation at `path` in the row's spelling, sent as written, without credentials."""
    target = "absolute-form" if row["target_form"] == "absolute-form" else "as-written"
    return batch.Request(key, spelt(row, path), {"target": target})


def served(outcome: batch.Outcome, row: dict) -> bool:
    """Whether the answer served the operation: a 2xx, but for an OPTIONS 2xx without content, which
    describes options. A refusal, a redirect, an error or a connection closed unanswered serves nothing."""
    exchange = outcome.exchange
    if exchange is None or not 200 <= exchange.status < 300:
        return False
    return not (row.get("success_without_content_is_no_data", False) and not exchange.response.content)


def serves_nothing(outcome: batch.Outcome, row: dict, what: str) -> None:
    """The answer serves the operation to nobody (`served`); a body over the size cap fails, unread."""
    __tracebackhide__ = True
    if outcome.exchange is None and isinstance(outcome.error, httpx.TransportError):
        return
    exchange = outcome.answered(what)
    expect.that(
        not served(outcome, row),
        f"expected a refusal for {what}, got {exchange.status}: served without credentials",
        exchange,
    )
