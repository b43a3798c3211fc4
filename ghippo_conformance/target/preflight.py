"""The session-start check: one call to the deployment before any test runs.

A wrong URL, a TLS problem or refused credentials would otherwise show as forty identical
failures; instead the run stops with one sentence and an exit code of its own.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass

import httpx

from ghippo_conformance.target.http import Api, Exchange, RateLimited
from ghippo_conformance.target.profile import Section
from ghippo_conformance.target.redact import Redactor
from ghippo_conformance.target.settings import Settings

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


def credentials_for(profile: Section, settings: Settings) -> Credentials:
    if profile.flow == "aksk":
        if not (settings.ak and settings.sk):
            raise MissingCredentials(
                f"profile {profile.name} uses AK/SK pairs: pass --ak and --sk "
                "(or GHIPPO_AK and GHIPPO_SK) for a pair of the user under test"
            )
        return Credentials(ak=settings.ak, sk=settings.sk)
    if not settings.access_key:
        raise MissingCredentials(
            f"profile {profile.name} uses access keys: pass --access-key (or GHIPPO_ACCESS_KEY)"
        )
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
    except httpx.TimeoutException:
        raise PreflightError(
            f"{where} did not answer within the request timeout; check --base-url, the network, "
            "or raise --request-timeout", UNREACHABLE) from None
    except httpx.TransportError as error:
        if _is_tls(error):
            raise PreflightError(
                f"the TLS handshake with {api.base_url} failed ({error}); if the deployment speaks "
                "plain HTTP use an http:// URL, else pass --ca-bundle or --insecure", TLS_FAILURE) from None
        raise PreflightError(f"cannot reach {where} ({error}); check --base-url", UNREACHABLE) from None


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
            NOT_GHIPPO)


def obtain_bearer(api: Api, profile: Section, credentials: Credentials) -> str:
    """The session's bearer: a token from the AK/SK pair, or the access key itself."""
    if credentials.access_key:
        return credentials.access_key
    exchange = _call(api, profile.paths.token, params={"ak": credentials.ak, "sk": credentials.sk})
    if exchange.status == 404:
        raise PreflightError(
            f"{exchange.url.split('?')[0]} answered 404: no token endpoint there; set the profile's "
            "paths.token (e.g. --profile-set paths.token=/api/v1/cube/key/token), or choose an "
            "access-key profile if this deployment runs Ghippo v0.14 or later", NOT_GHIPPO)
    token = (exchange.json() or {}).get("token") if isinstance(exchange.json(), dict) else None
    if exchange.status != 200 or not isinstance(token, str):
        raise PreflightError(
            f"the deployment refused the AK/SK pair ({exchange.status} at {profile.paths.token}); "
            "check --ak and --sk", CREDENTIALS_REFUSED)
    return token


def own_bearer(api: Api, profile: Section, credentials: Credentials) -> str:
    """A bearer of this process's own, its secret added to the redactor."""
    bearer = obtain_bearer(api, profile, credentials)
    api.redact.add(bearer)
    return bearer


def check(api: Api, profile: Section, credentials: Credentials) -> str:
    """Run the session-start check and return the session's bearer token."""
    _require_api(_call(api, profile.paths.users, params={"pageSize": 1}), "the users list", json_body=False)
    bearer = own_bearer(api, profile, credentials)
    listed = _call(api, profile.paths.users, params={"pageSize": 1}, bearer=bearer)
    if listed.status in (401, 403):
        refused = "token issued for the AK/SK pair" if credentials.ak else "access key"
        raise PreflightError(
            f"the deployment refused the {refused} ({listed.status} on {profile.paths.users}); "
            "check the credentials and that the user may list users", CREDENTIALS_REFUSED)
    _require_api(listed, "the users list with credentials", json_body=True)
    return bearer


def new_api(settings: Settings, base_url: str, redactor: Redactor) -> Api:
    return Api(base_url, redactor, verify=settings.verify, timeout=settings.request_timeout,
               max_rps=settings.max_rps)
