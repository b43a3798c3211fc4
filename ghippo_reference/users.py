"""The seeded users and the two endpoints that show them: the users list and the current user."""

from __future__ import annotations

import functools
import math
import random
import re
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from starlette.datastructures import QueryParams
from starlette.requests import Request

from ghippo_reference.behaviour import Behaviour
from ghippo_reference.errors import BAD_INTEGER, MISSING_PARAMETER, PAGE_NOT_FOUND, SERVER_FAULT, ApiError
from ghippo_reference.leniency import authenticate

if TYPE_CHECKING:
    from ghippo_reference.state import Deployment

# The spec bounds page at 1000 ("≥ 0, ≤ 1000"); pages are 1-based here, and pageSize shares the bound.
PAGE_LIMIT = 1000
# The documentation example's createdAt: the seeded population starts there.
_FIRST_CREATED_MS = 1660632794800
# The admin of the documentation's sample token (its sub): a deployment that checks neither the
# signature nor the expiry of that token lets it in, so AUTH-EXPIRED can catch such a deployment.
_DOCUMENTATION_ADMIN_ID = "f7c8b1f5-1761-4660-861d-9b72b432f4eb"
_DECIMAL = re.compile(r"-?[0-9]{1,10}")
_FIRST_NAMES = ("Wei", "Anna", "Kenji", "Priya", "Jonas", "Sofia", "Omar", "Lena", "Yuki", "Mateo", "Chen", "Ines")
_LAST_NAMES = ("Zhang", "Muller", "Sato", "Iyer", "Berg", "Rossi", "Haddad", "Novak", "Kim", "Silva", "Li", "Moreau")


@dataclass(frozen=True)
class User:
    id: str
    name: str
    email: str
    description: str
    firstname: str
    lastname: str
    source: str
    enabled: bool
    created_ms: int
    updated_ms: int  # 0: never updated, as the documentation shows it
    last_login_ms: int | None  # None: never logged in (shown as "")
    can_authorize: bool


@dataclass(frozen=True)
class Population:
    admin: User
    by_id: dict[str, User]
    by_name: dict[str, User]
    # The stable orders the list can be served in (Behaviour.users_order).
    ordered: dict[str, tuple[User, ...]]


@functools.cache
def seeded_population(user_count: int = Behaviour.user_count) -> Population:
    """The same users in every deployment of every run: a seeded RNG, built once per process and count.

    The default 137 (the admin included) is not a multiple of any common page size; a larger
    count adds users after the same first 137."""
    rng = random.Random(20220816)
    # The admin's description is Chinese ("platform administrator"), so every users list carries non-ASCII text.
    admin = User(
        _DOCUMENTATION_ADMIN_ID,
        "admin",
        "admin@example.com",
        "平台管理员",
        "",
        "",
        "locale",
        True,
        _FIRST_CREATED_MS,
        0,
        _FIRST_CREATED_MS + 86_400_000,
        True,
    )
    users = [admin]
    created_ms = _FIRST_CREATED_MS
    for index in range(1, user_count):
        # One user in ten shares its creation time with the previous one, so the id tie-break matters.
        created_ms += 0 if rng.random() < 0.1 else rng.randint(60_000, 86_400_000)
        users.append(_seeded_user(rng, index, created_ms))
    by_creation = tuple(sorted(users, key=lambda user: (user.created_ms, user.id)))
    ordered = {
        "created": by_creation,
        "newest-first": by_creation[::-1],
        "name-desc": tuple(sorted(users, key=lambda user: user.name, reverse=True)),
    }
    return Population(admin, {user.id: user for user in users}, {user.name: user for user in users}, ordered)


def _seeded_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _seeded_user(rng: random.Random, index: int, created_ms: int) -> User:
    first, last = rng.choice(_FIRST_NAMES), rng.choice(_LAST_NAMES)
    # Mixed case in names and lower case in emails give case-insensitive search something to do.
    name = f"{first}.{last}{index:03d}" if index % 3 else f"{first.lower()}{index:03d}"
    # Each unset case (no email, names, description, update or login) occurs for some users.
    has_names = rng.random() < 0.7
    return User(
        id=_seeded_uuid(rng),
        name=name,
        email="" if rng.random() < 0.15 else f"{name.lower()}@example.com",
        description="" if rng.random() < 0.6 else f"{first} from team {rng.choice('ABCDEF')}",
        firstname=first if has_names else "",
        lastname=last if has_names else "",
        source="ldap" if rng.random() < 0.1 else "locale",
        enabled=rng.random() < 0.9,
        created_ms=created_ms,
        updated_ms=0 if rng.random() < 0.4 else created_ms + rng.randint(1_000, 10**9),
        last_login_ms=None if rng.random() < 0.3 else created_ms + rng.randint(1_000, 10**9),
        can_authorize=rng.random() < 0.5,
    )


def user_view(user: User, behaviour: Behaviour) -> dict:
    view = {
        "id": user.id,
        "name": user.name,
        "email": user.email,
        "description": user.description,
        "firstname": user.firstname,
        "lastname": user.lastname,
        "source": user.source,
        "enabled": user.enabled,
        "createdAt": user.created_ms if behaviour.created_at_as_number else str(user.created_ms),
        "updatedAt": str(user.updated_ms),
        "lastLoginAt": "" if user.last_login_ms is None else str(user.last_login_ms),
    }
    if behaviour.can_authorize:
        view["canAuthorize"] = user.can_authorize
    return view


async def list_users(request: Request, deployment: Deployment) -> dict:
    authenticate(request, deployment)
    behaviour = deployment.behaviour
    page, page_size = _paging(request.query_params, behaviour)
    ordered = _ordered(deployment)
    matches = _matching(ordered, request.query_params.get("search", ""), behaviour)
    if behaviour.beyond_last_page_error and page > 1 and (page - 1) * page_size >= len(matches):
        raise ApiError(PAGE_NOT_FOUND, page=page)
    total = math.ceil(len(matches) / page_size) if behaviour.total_is_page_count else len(matches)
    echoed_size = behaviour.default_page_size if behaviour.page_size_echo_default else page_size
    pagination = {"page": page, "pageSize": echoed_size, "total": total}
    if behaviour.pagination_as_strings:
        pagination = {name: str(value) for name, value in pagination.items()}
    items = [
        user_view(user, behaviour) | _keys_shown(user, deployment)
        for user in _page_of(matches, page, page_size, behaviour)
    ]
    return {"items": items, "pagination": pagination}


def _ordered(deployment: Deployment) -> tuple[User, ...]:
    """The users in the list's order (Behaviour.users_order); without one, as a table scan happens to
    return them, a new order for every request."""
    order = deployment.behaviour.users_order
    if order != "none":
        return deployment.users.ordered[order]
    scanned = list(deployment.users.ordered["created"])
    random.Random(deployment.request_count).shuffle(scanned)
    return tuple(scanned)


def _paging(query: QueryParams, behaviour: Behaviour) -> tuple[int, int]:
    if behaviour.defaults_rejected:
        for name in ("page", "pageSize"):
            if name not in query:
                raise ApiError(MISSING_PARAMETER, name=name)
    page = _integer(query, "page", 1, behaviour)
    page_size = _integer(query, "pageSize", behaviour.default_page_size, behaviour)
    if page == 0 and behaviour.page_zero_as_first:
        page = 1
    if page_size == 0 and behaviour.page_size_zero_500:
        raise ApiError(SERVER_FAULT)
    for name, value in (("page", page), ("pageSize", page_size)):
        if not 1 <= value <= PAGE_LIMIT:
            raise _invalid(name, behaviour)
    return page, page_size


def _integer(query: QueryParams, name: str, default: int, behaviour: Behaviour) -> int:
    text = query.get(name)
    if text is None:
        return default
    if not _DECIMAL.fullmatch(text):
        raise _invalid(name, behaviour)
    return int(text)


def _invalid(name: str, behaviour: Behaviour) -> ApiError:
    if behaviour.invalid_paging_500:
        return ApiError(SERVER_FAULT)  # what an unchecked conversion does with a value it cannot use
    return ApiError(BAD_INTEGER, name=name, low=1, high=PAGE_LIMIT)


def _matching(users: tuple[User, ...], search: str, behaviour: Behaviour) -> tuple[User, ...]:
    if behaviour.search_500_on_quote and "'" in search:
        # What string-built SQL does with a quote.
        raise ApiError(SERVER_FAULT)
    if not search or behaviour.search_ignored:
        return users
    needle = search.casefold()
    return tuple(user for user in users if needle in user.name.casefold() or needle in user.email.casefold())


def _page_of(users: tuple[User, ...], page: int, page_size: int, behaviour: Behaviour) -> tuple[User, ...]:
    if behaviour.ignore_page_size:
        page_size = behaviour.default_page_size
    if behaviour.silent_page_size_cap is not None:
        page_size = min(page_size, behaviour.silent_page_size_cap)
    if behaviour.last_user_unlisted:
        users = users[:-1]
    if behaviour.ignore_page:
        page = 1
    start, end = (page - 1) * page_size, page * page_size
    if page > 1 and behaviour.duplicate_at_page_boundary:
        start, end = start - 1, end - 1
    if page > 1 and behaviour.drop_at_page_boundary:
        start, end = start + 1, end + 1  # pages stay full: only the user at the boundary is lost
    return users[start:end]


def credentials_owner(population: Population, behaviour: Behaviour) -> User:
    """Whose key the deployment hands the runner (Behaviour.credentials_owner): the admin, or the first
    enabled user after the admin in creation order."""
    if behaviour.credentials_owner == "admin":
        return population.admin
    return next(user for user in population.ordered["created"] if user is not population.admin and user.enabled)


async def current_user(request: Request, deployment: Deployment) -> dict:
    behaviour = deployment.behaviour
    caller = deployment.users.admin if behaviour.current_user_unprotected else authenticate(request, deployment)
    user = deployment.users.admin if behaviour.current_user_answer == "admin" else caller
    uid = user.id.upper() if behaviour.current_user_answer == "caller-uid-upper-case" else user.id
    # Every field of v1alpha1currentuserGetUserResponse; the SaaS account fields are unset.
    return {
        "uid": uid,
        "username": user.name,
        "email": user.email,
        "locale": "en-US",
        "source": user.source,
        "phoneNumber": "",
        "canTransferToMain": False,
        "hasCertified": False,
        "isMainAccount": False,
        "isSubAccount": False,
        "firstname": user.firstname,
        "lastname": user.lastname,
        "mainAccountId": "",
        "mainAccountName": "",
        # proto3 JSON writes int64 as a decimal string; a hand-written encoder writes a number.
        "mainAccountWorkspace": 0 if behaviour.workspace_as_number else "0",
        "inviteUrl": "",
        "inviteCode": "",
        **_keys_shown(user, deployment),
        **(
            {"token": deployment.last_bearer_issued(user.id)}
            if deployment.behaviour.current_user_shows_last_token
            else {}
        ),
    }


def _keys_shown(user: User, deployment: Deployment) -> dict:
    """The user's keys as a record shows them beyond the spec's fields (Behaviour.user_records_show_keys)."""
    shown = deployment.behaviour.user_records_show_keys
    if shown == "no":
        return {}
    keys = deployment.keys.live_keys(user.id)
    with_secrets = shown == "with-secrets"
    return {
        "accessKeys": [{"id": k.id, "name": k.name, **({"secret": k.secret} if with_secrets else {})} for k in keys]
    }
