"""Fixtures the conformance suites share; options and the target live in the plugin."""

import pytest

from ghippo_conformance.checks import expect, paths

# The protected read operations, by profile path name: the bearer checks run against each.
PROTECTED_READS = ("users", "current_user")


@pytest.fixture(scope="session", params=PROTECTED_READS)
def protected_path(request, profile) -> str:
    """Every bearer check runs against each protected read operation."""
    return getattr(profile.paths, request.param)


@pytest.fixture(scope="session")
def protected_reads(profile) -> list[str]:
    """The protected read operations' paths, the users list first, for checks that send to all at once."""
    return [getattr(profile.paths, name) for name in PROTECTED_READS]


@pytest.fixture(scope="session")
def jwks(api, profile) -> dict | None:
    """The deployment's key set, or None when the profile names no certs path."""
    if not profile.has("paths.certs"):
        return None
    exchange = api.get(profile.paths.certs)
    expect.status(exchange, 200, "the key set (certs)")
    return expect.json_body(exchange, "the key set (certs)")


@pytest.fixture(scope="session")
def documentation_token() -> str:
    """The sample token every documentation page shows; it expired on 2022-08-25."""
    return (paths.DOCUMENTATION / "sample-token.jwt").read_text().strip()
