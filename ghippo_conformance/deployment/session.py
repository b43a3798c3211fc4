"""The deployment under test for this run: its URL, profile, credentials and bearer.

Resolved once in pytest_configure, before collection, because schemathesis fixes its base URL
when tests are collected. Without --base-url the embedded reference is started here.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from ghippo_conformance.deployment import preflight
from ghippo_conformance.deployment.http import Api
from ghippo_conformance.deployment.preflight import Credentials
from ghippo_conformance.deployment.profile import Section
from ghippo_conformance.deployment.redact import Redactor, redactor_for
from ghippo_conformance.deployment.settings import Settings


@dataclass
class Target:
    base_url: str
    profile: Section
    credentials: Credentials
    api: Api
    bearer: str | None  # None when the deployment gave no usable one: bearer_problem says why
    run_id: str
    embedded: Any = field(default=None, repr=False)  # the running reference, when embedded
    bearer_problem: str | None = None
    notices: list[str] = field(default_factory=list)  # what the session-start check decided, for the operator
    # The key that moves the deployment's clock for one request, when it is a reference deployment
    # (the embedded one, or one started elsewhere and named by --reference-clock); a secret.
    reference_clock: str | None = field(default=None, repr=False)

    @property
    def redact(self) -> Redactor:
        return self.api.redact


def start_embedded_reference(profile: Section) -> tuple[Any, Credentials]:
    """Start the reference deployment on loopback, shaped by the profile's flow and limits."""
    from ghippo_reference.behaviour import for_profile
    from ghippo_reference.server import start

    running = start(for_profile(profile))
    return running, Credentials(**running.credentials)


def open_target(settings: Settings, profile: Section, *, shared: dict[str, Any] | None) -> Target:
    """Connect to the deployment (starting the reference if none is given) and run the check.

    `shared` carries what the xdist controller already decided (URL, credentials, run id, token
    path), so every worker tests the same deployment as the same user, each with a bearer of its own."""
    if settings.collect_only:
        return _unopened_target(settings, profile)
    embedded = None
    if shared:
        base_url, credentials, run_id = shared["base_url"], Credentials(**shared["credentials"]), shared["run_id"]
        profile = with_token_path(profile, shared["token_path"])
        reference_clock = shared["reference_clock"]
    elif settings.base_url and not settings.dry_run:
        base_url, run_id = settings.base_url, secrets.token_hex(4)
        credentials = preflight.credentials_for(profile, settings)
        reference_clock = settings.reference_clock
    else:
        embedded, credentials = start_embedded_reference(profile)
        base_url, run_id, reference_clock = embedded.base_url, secrets.token_hex(4), embedded.clock_key
    redactor = redactor_for(credentials, settings)
    redactor.add(reference_clock)
    api = preflight.new_api(settings, base_url, redactor)
    token_paths = {profile.get("paths", {}).get("token"), *preflight.DOCUMENTED_TOKEN_PATHS} - {None}
    api.leaks.issued_by(("POST", profile.paths.create_key), *(("GET", path) for path in token_paths))
    try:
        # A worker's controller has already checked the deployment: the worker only needs a bearer.
        bearer = (preflight.obtain_bearer if shared else preflight.check)(api, profile, credentials)
    except preflight.PreflightError:
        api.close()
        if embedded:
            embedded.stop()
        raise
    return Target(
        base_url,
        with_token_path(profile, bearer.token_path),
        credentials,
        api,
        bearer.token,
        run_id,
        embedded,
        bearer.problem,
        bearer.notices,
        reference_clock,
    )


class _NotStarted:
    """The embedded reference of a run that only collects its tests: named, never started."""

    base_url = "http://127.0.0.1"

    def stop(self) -> None:
        """Nothing was started."""


def _unopened_target(settings: Settings, profile: Section) -> Target:
    """The target of a run that only collects its tests, as the settings name it: nothing is sent to
    it, no reference is started, and the credentials the run would need are checked all the same."""
    against_deployment = settings.base_url and not settings.dry_run
    credentials = preflight.credentials_for(profile, settings) if against_deployment else Credentials()
    embedded = None if against_deployment else _NotStarted()
    base_url = settings.base_url if against_deployment else embedded.base_url
    redactor = Redactor()
    redactor.add(credentials.sk)
    redactor.add(credentials.access_key)
    if against_deployment:
        sent_nothing = f"only collected: nothing was sent to {base_url}"
    else:
        sent_nothing = "only collected: the embedded reference was not started"
    api = preflight.new_api(settings, base_url, redactor)
    return Target(base_url, profile, credentials, api, None, secrets.token_hex(4), embedded, notices=[sent_nothing])


def with_token_path(profile: Section, token_path: str | None) -> Section:
    """The profile with the token path the session-start check settled on."""
    if token_path is None or token_path == profile.paths.token:
        return profile
    data = profile.as_dict()
    return Section({**data, "paths": {**data["paths"], "token": token_path}}, "profile")


def shareable(target: Target) -> dict[str, Any]:
    """What an xdist worker needs to reach the same deployment (plain data: it crosses processes)."""
    credentials = {k: v for k, v in vars(target.credentials).items() if v is not None}
    return {
        "base_url": target.base_url,
        "credentials": credentials,
        "run_id": target.run_id,
        "token_path": target.profile.get("paths", {}).get("token"),
        "reference_clock": target.reference_clock,
    }


def close(target: Target) -> None:
    target.api.close()
    if target.embedded:
        target.embedded.stop()
