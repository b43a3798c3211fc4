"""Ways a deployment lets in what it should not: a secret compared only in part, authentication
skipped for some shapes of a request. The conforming defaults (Behaviour) use none of them.

The route handlers call `authenticate` here rather than auth.authenticate, so that a variant can let
a request through before the bearer is checked; `routed` is applied to every request before routing.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.types import Scope

from ghippo_reference import auth
from ghippo_reference.behaviour import Behaviour

if TYPE_CHECKING:
    from ghippo_reference.state import Deployment, StoredKey
    from ghippo_reference.users import User

# The scope key `routed` sets on a request whose shape Behaviour.auth_skipped_for lets through.
AUTHENTICATION_SKIPPED = "ghippo_reference.authentication_skipped"

# Behaviour.*_compare: whether a presented secret is taken for the stored one.
_COMPARISONS: dict[str, Callable[[str, str], bool]] = {
    "exact": lambda presented, stored: hmac.compare_digest(presented.encode(), stored.encode()),
    "first-8-chars": lambda presented, stored: presented[:8] == stored[:8],
    "all-but-last-char": lambda presented, stored: len(presented) == len(stored) and presented[:-1] == stored[:-1],
    "shorter-length": lambda presented, stored: (
        bool(presented) and presented[: len(stored)] == stored[: len(presented)]
    ),
    "case-insensitive": lambda presented, stored: presented.casefold() == stored.casefold(),
}

# Behaviour.auth_skipped_for: whether a request, by its raw path and its query, skips authentication.
_SKIPPED_FOR: dict[str, Callable[[str, dict], bool]] = {
    "none": lambda raw_path, query: False,
    "search-parameter": lambda raw_path, query: "search" in query,
    "any-parameter": lambda raw_path, query: bool(query),
    "trailing-slash": lambda raw_path, query: raw_path.endswith("/"),
    "doubled-slash": lambda raw_path, query: "//" in raw_path,
    "percent-encoded-path": lambda raw_path, query: "%" in raw_path,
    "upper-cased-path": lambda raw_path, query: raw_path != raw_path.lower(),
}


def matches(presented: str, stored: str, comparison: str) -> bool:
    """Whether `presented` passes for `stored` under a Behaviour.*_compare comparison."""
    return _COMPARISONS[comparison](presented, stored)


def find_live_key(deployment: Deployment, presented: str, comparison: str, field: str) -> StoredKey | None:
    """A live key whose `field` ("id" or "secret") passes for `presented` under `comparison`."""
    for user_id in deployment.users.by_id:
        for key in deployment.keys.live_keys(user_id):
            if matches(presented, getattr(key, field), comparison):
                return key
    return None


def routed(scope: Scope, behaviour: Behaviour) -> Scope:
    """The request's scope with the path the router reads (Behaviour.path_routing), marked when its
    shape skips authentication (Behaviour.auth_skipped_for)."""
    decoded = scope["path"]
    raw = scope.get("raw_path", b"").decode("latin-1") or decoded
    path = {"decoded": decoded, "raw": raw, "normalised": _normalised(decoded), "case-insensitive": decoded.lower()}[
        behaviour.path_routing
    ]
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
    return {**scope, "path": path, AUTHENTICATION_SKIPPED: _SKIPPED_FOR[behaviour.auth_skipped_for](raw, query)}


def _normalised(path: str) -> str:
    """Doubled slashes merged and a trailing slash removed."""
    return "/" + "/".join(segment for segment in path.split("/") if segment)


def authenticate(request: Request, deployment: Deployment) -> User:
    """The caller, as auth.authenticate finds it, unless a variant lets the request through first:
    a shape that skips authentication is served as the admin, and an access key compared in part
    is taken for the stored key it passes for."""
    behaviour = deployment.behaviour
    if request.scope.get(AUTHENTICATION_SKIPPED):
        return deployment.users.admin
    headers = request.headers.getlist("authorization")
    # Only the comparison is lenient: two Authorization headers are auth.authenticate's to refuse.
    if behaviour.flow == "access-key" and behaviour.access_key_compare != "exact" and len(headers) == 1:
        scheme, _, presented = headers[0].partition(" ")
        key = find_live_key(deployment, presented.strip(), behaviour.access_key_compare, "secret")
        if scheme.lower() == "bearer" and key is not None and deployment.usable_key(key.id) is not None:
            return deployment.users.by_id[key.owner_id]
    return auth.authenticate(request, deployment)
