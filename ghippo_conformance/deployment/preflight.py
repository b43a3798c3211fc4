"""The session-start check: a few calls to the deployment before any test runs.

A wrong URL, a TLS problem or refused credentials would otherwise show as forty identical
failures; instead the run stops with one sentence and an exit code of its own. It stops for
nothing else: a deployment that accepts the credentials and then breaks its contract (a 200
without a usable token, a token its own API refuses) is judged by the tests, which is why the
check returns a Session rather than stopping when no usable bearer comes of it.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field, replace

import httpx

from ghippo_conformance.deployment.http import Api, Exchange, RateLimited
from ghippo_conformance.deployment.profile import Section
from ghippo_conformance.deployment.redact import Redactor
from ghippo_conformance.deployment.settings import Settings

UNREACHABLE = 10
TLS_FAILURE = 11
NOT_GHIPPO = 12
CREDENTIALS_REFUSED = 13
RATE_LIMITED = 14


class PreflightError(Exception):
    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class MissingCredentials(Exception):
    """The profile's flow needs credentials that were not given (a usage error)."""


@dataclass(frozen=True)
class Credentials:
    ak: str | None = None
    sk: str | None = None
    access_key: str | None = None


@dataclass(frozen=True)
class Bearer:
    """The session's bearer, or why the deployment gave none that works (its fault, not the operator's)."""

    token: str | None
    problem: str | None = None
    token_path: str | None = None  # the AK/SK flow's token path, as used
    # What the check decided on the deployment's behalf, for the console and the report.
    notices: list[str] = field(default_factory=list)


# The token paths the documentation names: its example calls the first, its text the second.
DOCUMENTED_TOKEN_PATHS = ("/apis/ghippo.io/v1alpha1/token", "/api/v1/cube/key/token")


def credentials_for(profile: Section, settings: Settings) -> Credentials:
    if profile.flow == "aksk":
        if not (settings.ak and settings.sk):
            raise MissingCredentials(
                f"profile {profile.name} uses AK/SK pairs: pass --ak and --sk "
                "(or GHIPPO_AK and GHIPPO_SK) for a pair of the user under test"
            )
        return Credentials(ak=settings.ak, sk=settings.sk)
    if not settings.access_key:
        raise MissingCredentials(f"profile {profile.name} uses access keys: pass --access-key (or GHIPPO_ACCESS_KEY)")
    return Credentials(access_key=settings.access_key)


def _is_tls(error: BaseException) -> bool:
    while error is not None:
        if isinstance(error, ssl.SSLError):
            return True
        error = error.__cause__ or error.__context__
    return False


def _call(api: Api, path: str, **kwargs) -> Exchange:
    where = api.base_url + path
    try:
        return api.get(path, **kwargs)
    except RateLimited as limited:
        raise PreflightError(f"{where}: {limited.msg}", RATE_LIMITED) from None
    except httpx.TransportError as error:
        cause = str(error).splitlines()[0]  # the sentence names the URL; the evidence's "sent:" line is not needed
        if isinstance(error, httpx.TimeoutException):
            raise PreflightError(
                f"{where} did not answer within the request timeout ({cause}); check --base-url, the network, "
                "or raise --request-timeout",
                UNREACHABLE,
            ) from None
        if _is_tls(error):
            raise PreflightError(
                f"the TLS handshake with {api.base_url} failed ({cause}); if the deployment speaks "
                "plain HTTP use an http:// URL, else pass --ca-bundle or --insecure",
                TLS_FAILURE,
            ) from None
        raise PreflightError(f"cannot reach {where} ({cause}); check --base-url", UNREACHABLE) from None


def _require_api(exchange: Exchange, what: str, *, json_body: bool) -> None:
    """Stop unless `exchange` looks like the API: no 404, no HTML page, JSON where promised.

    Wrong error bodies (plain text, say) are left for the tests to report; only a base URL that
    points somewhere else entirely stops the run."""
    content_type = exchange.headers.get("content-type", "")
    wrong = exchange.status == 404 or "html" in content_type or (json_body and exchange.json() is None)
    if wrong:
        raise PreflightError(
            f"{exchange.url} answered {exchange.status} {content_type or 'without a content type'} "
            f"for {what}: this is not a Ghippo API; check --base-url and the profile's paths",
            NOT_GHIPPO,
        )


def obtain_bearer(api: Api, profile: Section, credentials: Credentials) -> Bearer:
    """The session's bearer: a token from the AK/SK pair, or the access key itself.

    Stops the run only when the deployment clearly refuses the pair (a 4xx answer); a 200 without
    a usable token, or a 5xx, is the deployment's failure, which TOKEN-ISSUE and SCHEMA-TOKEN judge."""
    if credentials.access_key:
        return Bearer(credentials.access_key)
    path, exchange, notices = _token_endpoint(api, profile, {"ak": credentials.ak, "sk": credentials.sk})
    body = exchange.json()
    token = body.get("token") if isinstance(body, dict) else None
    if 400 <= exchange.status < 500:
        raise PreflightError(
            f"the deployment refused the AK/SK pair ({exchange.status} at {path}); check --ak and --sk",
            CREDENTIALS_REFUSED,
        )
    if exchange.status != 200 or not isinstance(token, str) or not token:
        return Bearer(
            None,
            f"the token endpoint gave no usable token for the session's pair ({exchange.status} "
            f"at {path}; TOKEN-ISSUE and SCHEMA-TOKEN say why)",
            path,
            notices,
        )
    api.redact.add(token)
    return Bearer(token, None, path, notices)


def _token_endpoint(api: Api, profile: Section, pair: dict[str, str]) -> tuple[str, Exchange, list[str]]:
    """The profile's token path and its answer to the pair; when that answers 404, the other
    documented path, if it answers as a token endpoint, with a sentence saying so."""
    answer = _call(api, profile.paths.token, params=pair)
    if answer.status != 404:
        return profile.paths.token, answer, []
    for other in DOCUMENTED_TOKEN_PATHS:
        if other == profile.paths.token:
            continue
        other_answer = _call(api, other, params=pair)
        if other_answer.status != 404 and isinstance(other_answer.json(), dict):
            return (
                other,
                other_answer,
                [
                    f"the profile's token path {profile.paths.token} answered 404; the run uses the other documented "
                    f"path {other} (--profile-set paths.token={other} says so up front)"
                ],
            )
    raise PreflightError(
        f"{answer.url.split('?')[0]} answered 404: no token endpoint there, nor at the other documented path; "
        "set the profile's paths.token (--profile-set paths.token=…), or choose an access-key profile if this "
        "deployment runs Ghippo v0.14 or later",
        NOT_GHIPPO,
    )


def check(api: Api, profile: Section, credentials: Credentials) -> Bearer:
    """Run the session-start check and return the session's bearer (or why there is none)."""
    _require_api(_call(api, profile.paths.users, params={"pageSize": 1}), "the users list", json_body=False)
    bearer = obtain_bearer(api, profile, credentials)
    if bearer.token is None:
        return bearer
    listed = _call(api, profile.paths.users, params={"pageSize": 1}, bearer=bearer.token)
    if listed.status in (401, 403):
        if credentials.access_key:
            raise PreflightError(
                f"the deployment refused the access key ({listed.status} on {profile.paths.users}); "
                "check the credentials and that the user may list users",
                CREDENTIALS_REFUSED,
            )
        # The pair was accepted: refusing the token it bought is the deployment's fault (TOKEN-USABLE).
        return replace(
            bearer,
            token=None,
            problem=f"the deployment refused the token it issued for the session's "
            f"pair ({listed.status} on {profile.paths.users}; TOKEN-USABLE "
            "says why)",
        )
    # Any other answer is the tests' to judge: a 400 for a query this check chose, say.
    _require_api(listed, "the users list with credentials", json_body=True)
    return bearer


def new_api(settings: Settings, base_url: str, redactor: Redactor) -> Api:
    return Api(
        base_url,
        redactor,
        verify=settings.verify,
        timeout=settings.request_timeout,
        max_rps=settings.max_rps,
        max_body_mib=settings.max_body_mib,
    )
