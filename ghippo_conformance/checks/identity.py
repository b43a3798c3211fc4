"""Who an answer names, and whether that is who the presented credential belongs to.

A token names its holder by `sub` (the user's id in the documentation's sample, a username elsewhere: RFC 7519
section 4.1.2 leaves the form to the issuer) and `preferred_username`; current-user names the caller by `uid`
and `username`. A UUID is the same UUID in either case (RFC 9562 section 4), so ids are compared as UUIDs
where both are UUIDs, and exactly otherwise.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from ghippo_conformance.checks import expect, tokens
from ghippo_conformance.deployment.http import Exchange
from ghippo_conformance.deployment.keys import keys_listed


@dataclass(frozen=True)
class Named:
    """The user an answer or a token names: an id and a name, each None when it names none."""

    id: str | None
    name: str | None

    def __str__(self) -> str:
        return f"id {self.id!r}, name {self.name!r}"


def same_id(one: str | None, other: str | None) -> bool:
    if one is None or other is None:
        return False
    try:
        return uuid.UUID(one) == uuid.UUID(other)
    except ValueError:
        return one == other


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def named_by_token(token: str) -> Named:
    """The user a JWT names: sub, and preferred_username."""
    claims = tokens.claims(token)
    return Named(_text(claims.get("sub")), _text(claims.get("preferred_username")))


def named_by_current_user(answer: Exchange, what: str) -> Named:
    """The user a current-user answer names (uid, username); skips when it names none, whose shape
    API-RESPONSE-SCHEMA judges."""
    __tracebackhide__ = True
    expect.status(answer, 200, what)
    body = answer.json()
    named = Named(_text(body.get("uid")), _text(body.get("username"))) if isinstance(body, dict) else Named(None, None)
    if named.id is None and named.name is None:
        pytest.skip(f"{what} names no user (no uid, no username); API-RESPONSE-SCHEMA judges its shape")
    return named


def names_the_token_holder(answer: Named, token: Named) -> bool:
    """Whether an answer names the holder of a token: its uid is the sub, or its username is the sub (a
    deployment whose sub is the username) or the preferred_username."""
    return same_id(answer.id, token.id) or (answer.name is not None and answer.name in (token.id, token.name))


def same_user(one: Named, other: Named) -> bool:
    """Whether two answers of one deployment, which names users one way, name the same user."""
    return same_id(one.id, other.id) and one.name == other.name


def listed_ids(listing: Exchange, what: str) -> list[Any]:
    """The ids of a key list answer's items."""
    __tracebackhide__ = True
    expect.status(listing, 200, what)
    keys = keys_listed(listing)
    expect.that(keys is not None, f"{what} has no items list", listing)
    return [key.get("id") for key in keys]
