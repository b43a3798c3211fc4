"""Ways a deployment lets in what it should not: a secret compared only in part, authentication
skipped for some shapes of a request, for a spelling of the path or a method the router still serves.
The conforming defaults (Behaviour) use none of them.

The route handlers call `authenticate` here rather than auth.authenticate, so that a variant can let
a request through before the bearer is checked; `routed` and then `method_routed` are applied to every
request before routing.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

from starlette.requests import Request
from starlette.types import Scope

from ghippo_reference import auth
from ghippo_reference.behaviour import Behaviour

if TYPE_CHECKING:
    from ghippo_reference.state import Deployment, StoredKey
    from ghippo_reference.users import User

# The scope key `routed` sets on a request whose shape Behaviour.auth_skipped_for lets through.
AUTHENTICATION_SKIPPED = "ghippo_reference.authentication_skipped"
# The scope key `routed` sets on a request whose path Behaviour.path_resolution refuses.
PATH_REFUSED = "ghippo_reference.path_refused"
# What names the method a POST stands for under Behaviour.method_routing "override-honoured".
OVERRIDE_HEADERS = (b"x-http-method-override", b"x-http-method", b"x-method-override")
OVERRIDE_FIELD = "_method"

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


def _dot_segments_removed(path: str) -> str:
    """RFC 3986 section 5.2.4's remove_dot_segments, for an absolute path."""
    kept: list[str] = []
    segments = path.split("/")[1:]
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        if segment == "..":
            if kept:
                kept.pop()
        elif segment != ".":
            kept.append(segment)
            continue
        if last:
            kept.append("")  # "/a/." and "/a/b/.." end in a slash
    return "/" + "/".join(kept)


def _without_path_parameters(path: str) -> str:
    """Each segment's ;parameters stripped, then dot segments resolved: a servlet container's path."""
    return _dot_segments_removed("/".join(segment.partition(";")[0] for segment in path.split("/")))


def _absolute_form_path(path: str) -> str:
    return urlsplit(path).path if path.startswith(("http://", "https://")) else path


# Behaviour.path_resolution: the path the router matches, from the one path_routing read; None refuses it.
_RESOLUTIONS: dict[str, Callable[[str], str | None]] = {
    "none": lambda path: path,
    "dot-segments": _dot_segments_removed,
    "dot-segments-refused": lambda path: None if {".", ".."} & set(path.split("/")) else path,
    "path-parameters": _without_path_parameters,
    "fragment-dropped": lambda path: path.partition("#")[0],
    "backslash-as-slash": lambda path: path.replace("\\", "/"),
    "absolute-form": _absolute_form_path,
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
    """The request's scope with the path the router matches (Behaviour.path_routing, then
    Behaviour.path_resolution), marked when its shape or its resolution skips authentication
    (Behaviour.auth_skipped_for, Behaviour.auth_before_path_resolution) or when the resolution refuses it."""
    decoded = scope["path"]
    raw = scope.get("raw_path", b"").decode("latin-1") or decoded
    read = {"decoded": decoded, "raw": raw, "normalised": _normalised(decoded), "case-insensitive": decoded.lower()}[
        behaviour.path_routing
    ]
    path = _RESOLUTIONS[behaviour.path_resolution](read)
    if path is None:
        return {**scope, PATH_REFUSED: True}
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
    skipped = _SKIPPED_FOR[behaviour.auth_skipped_for](raw, query)
    resolved_past_the_rule = behaviour.auth_before_path_resolution and path != read
    return {**scope, "path": path, AUTHENTICATION_SKIPPED: skipped or resolved_past_the_rule}


def overriding_method(scope: Scope, form: Mapping[str, str]) -> str | None:
    """The method a POST names in an override header, or in a _method field of its query or form body."""
    if scope["method"] != "POST":
        return None
    headers = dict(scope.get("headers", []))
    named = next((headers[name].decode("latin-1") for name in OVERRIDE_HEADERS if name in headers), None)
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    named = named or query.get(OVERRIDE_FIELD, [None])[0] or form.get(OVERRIDE_FIELD)
    return named.upper() if named else None


def method_routed(scope: Scope, behaviour: Behaviour, overriding: str | None, documented: str | None) -> Scope:
    """The request's scope with the method the router routes (Behaviour.method_routing), marked when the
    method skips authentication (Behaviour.auth_only_for_documented_method). `overriding` is the method
    the request names (overriding_method), `documented` the method of the route at its path, if any."""
    sent = scope["method"]
    method = {
        "route-method": sent,
        "override-honoured": overriding or sent,
        "any-method": documented or sent,
    }[behaviour.method_routing]
    rule_missed = behaviour.auth_only_for_documented_method and documented is not None and sent != documented
    return {**scope, "method": method, AUTHENTICATION_SKIPPED: scope.get(AUTHENTICATION_SKIPPED) or rule_missed}


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
