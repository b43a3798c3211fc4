"""Fixtures the conformance suites share; options and the target live in the plugin."""

import pytest

from ghippo_conformance import paths
from ghippo_conformance.checks import key_sets

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
def key_set(api, profile) -> key_sets.PublishedKeySet | None:
    """The certs answer, read but not judged (the key-set tests judge it), or None when the profile names
    no certs path."""
    if not profile.has("paths.certs"):
        return None
    return key_sets.read(api.get(profile.paths.certs))


@pytest.fixture(scope="session")
def jwks(key_set) -> dict | None:
    """The published keys a verifier can load, as a key set to forge tokens under; None without a certs path."""
    return None if key_set is None else {"keys": key_set.verifiable_keys()}


@pytest.fixture(scope="session")
def documentation_token() -> str:
    """The sample token every documentation page shows; it expired on 2022-08-25."""
    return (paths.DOCUMENTATION / "sample-token.jwt").read_text().strip()
