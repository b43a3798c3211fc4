"""The current user's keys (create, list, delete) and the exchange of an AK/SK pair for a token.

In the "aksk" flow a key is a pair: AK = the key's id, SK = an opaque secret shown once. In the
"access-key" flow the secret shown once is itself the bearer: a token whose jti is the key's id.
"""

import asyncio
import base64
import re
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from functools import partial

from starlette.requests import Request

from ghippo_reference.auth import acting_user
from ghippo_reference.behaviour import Behaviour
from ghippo_reference.errors import (
    BAD_BODY,
    BAD_EXPIRY,
    BAD_INTEGER,
    BAD_KEY_PAIR,
    KEY_LIMIT,
    KEY_NOT_FOUND,
    MISSING_PARAMETER,
    NO_ROUTE,
    RESOURCE_EXHAUSTED,
    SERVER_FAULT,
    TOKEN_ALREADY_ISSUED,
    ApiError,
)
from ghippo_reference.leniency import authenticate, find_live_key, matches
from ghippo_reference.signing import issue_token
from ghippo_reference.state import Deployment, StoredKey
from ghippo_reference.users import User

# An access key created without expiredAt never expires; its token still needs an exp.
_NEVER_EXPIRES_S = 10 * 365 * 86400
_EPOCH_SECONDS = re.compile(r"[0-9]{1,12}")
_RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})"
)
# The refusal over the key limit, by Behaviour.key_limit_refusal.
_KEY_LIMIT_REFUSALS = {
    "failed-precondition": KEY_LIMIT,
    "resource-exhausted": replace(KEY_LIMIT, code=RESOURCE_EXHAUSTED),
}
# The zone key times are written in under key_time_style "rfc3339-offset" (China Standard Time).
_LISTED_ZONE = timezone(timedelta(hours=8))
# How long a create takes under key_create "slow-atomic" and "counted-then-inserted".
_SLOW_CREATE_S = 0.05


def create_key(deployment: Deployment, owner: User, name: str, expired_at: str, *, counted: bool = False) -> dict:
    """The one way keys are made, by the API and by `RunningReference.add_key` alike; `counted`: the
    caller found room for the key already, and it is inserted without counting again."""
    if not name.strip():
        raise ApiError(MISSING_PARAMETER, name="name")
    now_s = deployment.now()
    now = int(now_s)
    behaviour = deployment.behaviour
    expires_at = _expiry(expired_at, now, behaviour)
    make_secret = partial(_new_secret, behaviour, owner, now, expires_at)
    key = deployment.keys.create(owner.id, name, int(now_s * 1000), expires_at, make_secret, enforce_limit=not counted)
    if key is None:
        raise _over_limit(behaviour)
    if behaviour.flow == "access-key":
        deployment.note_bearer_issued(owner.id, key.secret)
    return {"id": key.id, "token": key.secret}


def _over_limit(behaviour: Behaviour) -> ApiError:
    return ApiError(_KEY_LIMIT_REFUSALS[behaviour.key_limit_refusal], limit=behaviour.key_limit)


def _expiry(expired_at: str, now: int, behaviour: Behaviour) -> int | None:
    """Epoch seconds from "" (never), decimal epoch seconds or RFC 3339; past times are refused."""
    if not expired_at:
        return None
    if _EPOCH_SECONDS.fullmatch(expired_at):
        expires_at = int(expired_at)
    elif _RFC3339.fullmatch(expired_at):
        try:
            written = datetime.fromisoformat(expired_at.upper().replace("Z", "+00:00"))
        except ValueError:  # well-formed but impossible, such as month 13
            raise ApiError(BAD_EXPIRY) from None
        if behaviour.expired_at_offset_ignored:
            written = written.replace(tzinfo=UTC)
        expires_at = int(written.timestamp())
    else:
        raise ApiError(BAD_EXPIRY)
    if expires_at <= now:
        if behaviour.past_expired_at_ignored:
            return None  # as a scheduler that only arms timers for future times would
        raise ApiError(BAD_EXPIRY)
    return expires_at


def _new_secret(behaviour: Behaviour, owner: User, issued_at: int, expires_at: int | None, key_id: str) -> str:
    if behaviour.flow == "aksk":
        return str(uuid.uuid4())  # an opaque SK, like the documentation's example
    return issue_token(
        behaviour,
        user_id=owner.id,
        username=owner.name,
        jti=key_id,
        issued_at=issued_at,
        expires_at=expires_at or issued_at + _NEVER_EXPIRES_S,
    )


async def create_access_key(request: Request, deployment: Deployment) -> dict:
    owner = authenticate(request, deployment)
    try:
        body = await request.json()
    except ValueError:  # not JSON, or not UTF-8
        raise ApiError(BAD_BODY) from None
    if not isinstance(body, dict) or not all(isinstance(body.get(field, ""), str) for field in ("name", "expiredAt")):
        raise ApiError(BAD_BODY)
    name, expired_at = body.get("name", ""), body.get("expiredAt", "")
    if deployment.behaviour.key_create == "counted-then-inserted":
        # The count and the insert are two steps with a wait between: a create sent meanwhile counts too.
        if not deployment.keys.has_room(owner.id):
            raise _over_limit(deployment.behaviour)
        await asyncio.sleep(_SLOW_CREATE_S)
        return create_key(deployment, owner, name, expired_at, counted=True)
    if deployment.behaviour.key_create == "slow-atomic":
        await asyncio.sleep(_SLOW_CREATE_S)
    return create_key(deployment, owner, name, expired_at)


async def list_access_keys(request: Request, deployment: Deployment) -> dict:
    owner = authenticate(request, deployment)
    keys = deployment.keys.live_keys(owner.id)
    if deployment.behaviour.key_list_order == "newest-first":
        keys.reverse()
    return {"items": [_key_view(key, deployment.behaviour) for key in keys]}


def _key_view(key: StoredKey, behaviour: Behaviour) -> dict:
    view = {
        "id": key.id,
        "name": key.name[: behaviour.listed_key_name_length],  # [:None] is the whole name
        **_key_times(key, behaviour),
    }
    if behaviour.key_list_wrong_types:
        view["createdAt"] = key.created_ms
    if behaviour.listed_secret != "nothing":
        view |= _LISTED_SECRETS[behaviour.listed_secret](key.secret)
    return view


# What the key list adds to each key by Behaviour.listed_secret.
_LISTED_SECRETS = {
    "whole": lambda secret: {"token": secret},
    "base64": lambda secret: {"data": {"token": base64.b64encode(secret.encode()).decode()}},
    "last-four": lambda secret: {"tokenHint": f"…{secret[-4:]}"},
}


def _key_times(key: StoredKey, behaviour: Behaviour) -> dict[str, str]:
    """createdAt, updatedAt (keys are never updated) and expiredAt ("" when the key never expires):
    epoch milliseconds and epoch seconds as decimals, or RFC 3339 times (key_time_style)."""
    if behaviour.key_time_style == "rfc3339-offset":
        created = _rfc3339(key.created_ms / 1000)
        expired = "" if key.expires_at is None else _rfc3339(key.expires_at)
    else:
        created = str(key.created_ms)
        expired = "" if key.expires_at is None else str(key.expires_at)
    return {"createdAt": created, "updatedAt": created, "expiredAt": expired}


def _rfc3339(epoch_s: float) -> str:
    """Microseconds and the listed zone's offset, as in 2024-05-01T16:03:07.123000+08:00."""
    return datetime.fromtimestamp(epoch_s, _LISTED_ZONE).isoformat(timespec="microseconds")


async def delete_access_key(request: Request, deployment: Deployment) -> dict:
    key_id = request.path_params["key_id"]
    if deployment.behaviour.key_lookup_before_auth and deployment.keys.find(key_id) is None:
        # Looking the key up before the caller tells anonymous clients which key ids exist.
        raise ApiError(KEY_NOT_FOUND)
    owner = authenticate(request, deployment)
    if deployment.behaviour.deletes_fail:
        raise ApiError(SERVER_FAULT)  # the key stays, as when the backing store is down
    key = deployment.keys.find(key_id)
    if key is None or key.deleted or key.owner_id != owner.id:
        raise ApiError(KEY_NOT_FOUND)
    if deployment.behaviour.delete_keeps_key:
        return {}
    if deployment.behaviour.delete_removes_oldest:
        key_id = deployment.keys.live_keys(owner.id)[0].id
    if deployment.behaviour.delete_removes_newest:
        key_id = deployment.keys.live_keys(owner.id)[-1].id
    deployment.keys.delete(owner.id, key_id)
    if deployment.behaviour.secret_in_delete_response:
        return {**_key_view(key, deployment.behaviour), "token": key.secret}
    return {}


async def exchange_key_pair(request: Request, deployment: Deployment) -> dict:
    behaviour = deployment.behaviour
    if behaviour.flow != "aksk":
        raise ApiError(NO_ROUTE)
    query = request.query_params
    for name in ("ak", "sk"):
        if not query.get(name):
            raise ApiError(MISSING_PARAMETER, name=name)
    lifetime_s = _lifetime_s(query.get("cycle", ""), behaviour)
    key = _pair_named_by(query["ak"], deployment)
    if key is None or not (behaviour.accept_wrong_sk or matches(query["sk"], key.secret, behaviour.sk_compare)):
        raise ApiError(BAD_KEY_PAIR)
    owner = acting_user(deployment, key)
    now = int(deployment.now())
    jti = str(uuid.uuid4())
    if not deployment.note_token(key.id, jti) and behaviour.second_token_refused:
        raise ApiError(TOKEN_ALREADY_ISSUED)
    token = issue_token(
        behaviour, user_id=owner.id, username=owner.name, jti=jti, issued_at=now, expires_at=now + lifetime_s
    )
    deployment.note_bearer_issued(owner.id, token)
    return {behaviour.token_response_field: token}


def _pair_named_by(ak: str, deployment: Deployment) -> StoredKey | None:
    """The usable key whose id is the AK, compared as Behaviour.ak_compare says."""
    if deployment.behaviour.ak_compare == "exact":
        return deployment.usable_key(ak)
    key = find_live_key(deployment, ak, deployment.behaviour.ak_compare, "id")
    return None if key is None else deployment.usable_key(key.id)


def _lifetime_s(cycle: str, behaviour: Behaviour) -> int:
    """Seconds a token lives: `cycle` units (days), or the default when cycle is absent or empty."""
    if not cycle:
        return behaviour.default_lifetime_s
    if behaviour.invalid_cycle_accepted:
        try:
            cycles = int(cycle)
        except ValueError:  # the unchecked conversion fails on non-numeric text
            raise ApiError(SERVER_FAULT) from None
    else:
        cycles = _cycles(cycle, behaviour)
    return behaviour.default_lifetime_s if behaviour.cycle_ignored else int(cycles * behaviour.cycle_unit_s)


# What Behaviour.cycle_read_as accepts as a number, and how it reads it.
_CYCLE_READERS = {
    "digits": (re.compile(r"[0-9]{1,9}"), int),
    "go-atoi": (re.compile(r"[+-]?[0-9]{1,9}"), int),
    "decimal": (re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?"), float),
}


def _cycles(cycle: str, behaviour: Behaviour) -> float:
    """The number of cycle units asked, from 1 to the limit; a 400 for anything else."""
    pattern, read = _CYCLE_READERS[behaviour.cycle_read_as]
    cycles = read(cycle) if pattern.fullmatch(cycle) else 0
    if not 1 <= cycles <= behaviour.cycle_limit_days:
        raise ApiError(BAD_INTEGER, name="cycle", low=1, high=behaviour.cycle_limit_days)
    return cycles
