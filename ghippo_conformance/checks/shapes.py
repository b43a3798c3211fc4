"""The shapes in which a client could send one operation, for checks that must hold in every one.

A deployment whose authentication is skipped when a query parameter is present, or for another
spelling of the path that its router still serves, passes a check that sends each operation once.
The shapes are rows of fixtures/cases/request-shapes.toml; the query parameters an operation
declares come from the OpenAPI document (schemas/openapi.json), never from a list kept here.

httpx sends a doubled slash and a percent-encoded letter as written (only dot segments are
resolved), so every spelling here leaves the client as the row describes it. The spellings httpx would
change, and those of the public auth-bypass advisories, are checks/routing.py's (AUTH-ANY-SPELLING),
sent as written.

Most shapes are reads (or deletes of a key that does not exist), none depending on another: the
suites send them side by side through checks/batch.py, `batched` making each a request of a batch.
"""

from __future__ import annotations

import json
import re
from collections.abc import Hashable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

from ghippo_conformance import json_schemas
from ghippo_conformance.checks import batch, cases

TABLE = "request-shapes"
# A valid value for a declared query parameter, by its schema type: the shape is about which
# parameters are present, so a value the deployment could refuse on its own would blur it.
_VALID_VALUE = {"integer": "1", "number": "1", "boolean": "true", "string": "a"}


@dataclass(frozen=True)
class Request:
    """One shape of one operation, ready for the HTTP helper."""

    path: str
    params: dict[str, str] | None
    # Besides the unauthenticated status, what refuses this shape for another reason and lets nothing
    # through (a spelling the deployment does not route, a parameter it does not accept).
    other_refusals: frozenset[int]

    def refusals(self, profile: Any) -> set[int]:
        """The statuses that refuse this request: the profile's unauthenticated status, and the others."""
        return {profile.auth.unauthenticated_status, *self.other_refusals}


@cache
def _document() -> dict[str, Any]:
    return json.loads(json_schemas.OPENAPI.read_text())


@cache
def _operations() -> dict[tuple[str, str], dict[str, Any]]:
    """The OpenAPI document's operations by (METHOD, path template), in the document's order."""
    return {
        (method.upper(), path): operation
        for path, methods in _document()["paths"].items()
        for method, operation in methods.items()
    }


def protected_operations() -> Iterator[tuple[str, str, str]]:
    """(METHOD, path template, operationId) of every operation the document protects."""
    default_security = _document().get("security", [])
    for (method, path), operation in _operations().items():
        if operation.get("security", default_security):
            yield method, path, operation["operationId"]


def declared_query(method: str, path: str) -> dict[str, str]:
    """A valid value for every query parameter the document declares for the operation at `path`
    (a template such as …/{id}, or a concrete path); {} for an operation it does not know."""
    for (documented_method, template), operation in _operations().items():
        if documented_method == method and re.fullmatch(re.sub(r"\{[^/]+\}", "[^/]+", template), path):
            return {
                parameter["name"]: _VALID_VALUE.get(parameter.get("schema", {}).get("type"), "a")
                for parameter in operation.get("parameters", [])
                if parameter.get("in") == "query"
            }
    return {}


def spelt(path: str, spelling: str) -> str:
    """`path` in an equivalent spelling: a client may write any of them, a router may serve any."""
    if spelling == "as-documented":
        return path
    if spelling == "trailing-slash":
        return path + "/"
    if spelling == "doubled-slash":
        return "/" + path  # the first slash: a middleware matching on the path's start misses it too
    if spelling == "percent-encoded-letter":
        at = next(index for index, character in enumerate(path) if character.isalpha())
        return f"{path[:at]}%{ord(path[at]):02X}{path[at + 1 :]}"
    if spelling == "upper-cased-segment":
        first, _, rest = path.lstrip("/").partition("/")
        return f"/{first.upper()}/{rest}"  # a router that ignores case serves it; a prefix rule may miss it
    raise ValueError(f"unknown spelling {spelling!r}")


def applies(row: dict, method: str, path: str) -> bool:
    """Whether the shape differs from the documented one for this operation: a row that adds the
    declared parameters adds nothing to an operation that declares none."""
    return not row["declared_parameters"] or bool(declared_query(method, path))


def shaped(row: dict, method: str, path: str) -> Request:
    """The operation at the concrete `path` in the shape of a request-shapes row."""
    params = declared_query(method, path) if row["declared_parameters"] else {}
    if row["undeclared_parameter"]:
        params[row["undeclared_parameter"]] = "1"
    return Request(spelt(path, row["spelling"]), params or None, frozenset(row["other_refusals"]))


def batched(key: Hashable, row: dict, method: str, path: str, **arguments: Any) -> batch.Request:
    """The operation at the concrete `path` in the shape of `row`, as a request of a batch found again
    by `key`; `arguments` are the HTTP helper's (bearer=…)."""
    request = shaped(row, method, path)
    return batch.Request(key, request.path, {"params": request.params, **arguments}, method)


def rows() -> tuple[dict, ...]:
    return cases.load(TABLE)
