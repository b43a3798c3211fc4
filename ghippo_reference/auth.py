"""Who is calling: the `Authorization: Bearer` header turned into a user, or a 401."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from starlette.requests import Request

from ghippo_reference.behaviour import Behaviour
from ghippo_reference.errors import (
    HEADER_TOO_LARGE,
    MALFORMED_AUTHORIZATION,
    SERVER_FAULT,
    UNAUTHENTICATED_REQUEST,
    ApiError,
)
from ghippo_reference.signing import InvalidToken, KeyUrlUnreachable, read_token

if TYPE_CHECKING:
    from ghippo_reference.state import Deployment, StoredKey
    from ghippo_reference.users import User

# RFC 6750 section 2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
_B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
# An Authorization header longer than this is answered as oversized_authorization says.
OVERSIZED_BYTES = 8 * 1024
# The reason and status of the answer to one, by oversized_authorization ("closed" never gets here:
# server.py closes the connection first).
_OVERSIZED_ANSWERS = {"431": (HEADER_TOO_LARGE, 431), "500": (SERVER_FAULT, None)}
# Where app.py leaves the access_token of a form-encoded body, under token_from_form.
FORM_ACCESS_TOKEN = "ghippo.form_access_token"
# The console's session cookie (Behaviour.session_cookie), and where a request authenticated by its
# Authorization header leaves the credential for app.py to open a session with.
SESSION_COOKIE = "ghippo_session"
SESSION_CREDENTIAL = "ghippo.session_credential"
# A dict per connection, offered by server.py: what a deployment that remembers connections keeps.
CONNECTION_STATE = "ghippo.connection_state"


def authenticate(request: Request, deployment: Deployment) -> User:
    behaviour = deployment.behaviour
    header = _authorization(request, behaviour)
    if header is None:
        remembered = _remembered_user(request, deployment)
        if remembered is not None:
            return remembered
    token = _bearer_token(header, behaviour)
    user = _user_of(token, deployment)
    if behaviour.session_cookie != "none":
        request.scope[SESSION_CREDENTIAL] = token  # app.py opens a session for it with the answer
    if behaviour.connection_remembers_user:
        request.scope[CONNECTION_STATE]["user"] = user
    return user


def _remembered_user(request: Request, deployment: Deployment) -> User | None:
    """Who a request without an Authorization header is taken for by a deployment that remembers: the
    user of its session cookie (Behaviour.session_cookie) or of its connection (connection_remembers_user)."""
    behaviour = deployment.behaviour
    session = request.cookies.get(SESSION_COOKIE) if behaviour.session_cookie != "none" else None
    credential = deployment.session_credential(session) if session else None
    if credential is not None:
        if behaviour.session_cookie == "outlives-credential":
            return _user_of(credential, deployment, check_credential=False)
        return _user_of(credential, deployment)  # a session is only as good as the credential it came from
    if behaviour.connection_remembers_user:
        return request.scope[CONNECTION_STATE].get("user")
    return None


def _user_of(token: str, deployment: Deployment, *, check_credential: bool = True) -> User:
    """The user a bearer token authenticates, or a 401; without `check_credential` only the token's
    signature and sub count, as a session that outlives its key's deletion and expiry takes it."""
    behaviour = deployment.behaviour
    refused = ApiError(UNAUTHENTICATED_REQUEST, presented_token=token)
    if behaviour.accept_secret_as_bearer and behaviour.flow == "aksk":
        key = deployment.keys.find_live_by_secret(token)
        if key is not None:
            return deployment.users.by_id[key.owner_id]
    # In the access-key flow a token's exp is its key's expiry, so not enforcing key expiry
    # (expired_key_works) means not enforcing exp either.
    key_expiry_waived = behaviour.flow == "access-key" and behaviour.expired_key_works
    try:
        claims = read_token(token, behaviour, check_expiry=False)  # exp is judged below, on the deployment's clock
    except InvalidToken:
        raise refused from None
    except KeyUrlUnreachable:
        # Answered as the deployment's own fault, not a crash: the connection stays open.
        raise ApiError(SERVER_FAULT) from None
    exp = claims["exp"]
    exp_passed = not (isinstance(exp, int | float) and exp + behaviour.exp_leeway_s > deployment.expiry_now())
    if check_credential and exp_passed and not (behaviour.accept_expired or key_expiry_waived):
        raise refused
    # A deployment knows the form of its own subjects: the user's id or, under token_subject, the username.
    user = deployment.users.by_id.get(claims["sub"]) or deployment.users.by_name.get(claims["sub"])
    if user is None:
        raise refused
    # Like a session store that keeps only the first token each pair was exchanged for.
    later_token = behaviour.flow == "aksk" and not deployment.is_first_token(claims.get("jti", ""))
    if (behaviour.later_tokens_refused and later_token) or (
        behaviour.issued_tokens_refused and behaviour.flow == "aksk"
    ):
        raise refused
    if check_credential and behaviour.flow == "access-key":
        # The token is the access key: it is only as good as the stored key its jti names.
        key = deployment.usable_key(claims.get("jti", ""))
        if key is None or key.owner_id != user.id:
            raise refused
        return acting_user(deployment, key)
    return user


def acting_user(deployment: Deployment, key: StoredKey) -> User:
    """Whom a key acts as (Behaviour.keys_act_as): its owner, unless a variant puts the admin in its place."""
    acts_as = deployment.behaviour.keys_act_as
    owners_first = deployment.keys.live_keys(key.owner_id)[:1]
    if acts_as == "admin" or (acts_as == "admin-after-first-key" and [key] != owners_first):
        return deployment.users.admin
    return deployment.users.by_id[key.owner_id]


def _authorization(request: Request, behaviour: Behaviour) -> str | None:
    """The request's one Authorization value, or None without one (RFC 6750 section 2: one method,
    one credential): two headers are refused unless a variant reads the last."""
    values = request.headers.getlist("authorization")
    if len(values) > 1 and behaviour.repeated_authorization != "last-used":
        if behaviour.repeated_authorization == "bad-request":
            raise ApiError(MALFORMED_AUTHORIZATION, status=400)
        raise ApiError(UNAUTHENTICATED_REQUEST)
    if not values:
        query_token = request.query_params.get("access_token") if behaviour.token_from_query else None
        body_token = request.scope.get(FORM_ACCESS_TOKEN) if behaviour.token_from_form else None
        token = query_token or body_token
        return f"Bearer {token}" if token else None
    value = values[-1]
    if len(value) > OVERSIZED_BYTES and behaviour.oversized_authorization in _OVERSIZED_ANSWERS:
        reason, status = _OVERSIZED_ANSWERS[behaviour.oversized_authorization]
        raise ApiError(reason, status=status)
    return value


def _bearer_token(header: str | None, behaviour: Behaviour) -> str:
    """The token of a well-formed `Bearer <token>` header (RFC 6750 section 2.1)."""
    if header is None:
        raise ApiError(UNAUTHENTICATED_REQUEST)
    scheme, _, token = header.strip().partition(" ")
    token = token.strip(" ")
    if not token:  # no scheme, or a scheme alone
        raise _malformed(behaviour)
    # RFC 7235 section 2.1: the scheme is case-insensitive.
    is_bearer = scheme == "Bearer" if behaviour.scheme_case_sensitive else scheme.lower() == "bearer"
    if not is_bearer:
        raise ApiError(UNAUTHENTICATED_REQUEST)
    if not _B64TOKEN.fullmatch(token):  # several tokens, quotes, characters outside b64token
        raise _malformed(behaviour)
    return token


def _malformed(behaviour: Behaviour) -> ApiError:
    if behaviour.malformed_header_status == 401:
        return ApiError(UNAUTHENTICATED_REQUEST)
    return ApiError(MALFORMED_AUTHORIZATION, status=behaviour.malformed_header_status)
