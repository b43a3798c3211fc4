"""Every request stands alone: what an earlier request presented on a connection lends nothing to a later one."""

import pytest

from ghippo_conformance.checks import expect


@pytest.mark.requirement("AUTH-PER-REQUEST")
def test_a_connection_lends_no_credentials(api, profile, bearer):
    """A request without an Authorization header, on a keep-alive connection that has just carried the session's
    valid bearer, is refused. Which status it gets, AUTH-MISSING judges; both requests have the plainest shape."""
    with api.one_connection():
        authenticated = api.get(profile.paths.users, bearer=bearer)
        bare = api.get(profile.paths.users)
    if authenticated.status != 200:
        pytest.skip(f"the session's bearer got {authenticated.status}: no connection it authenticated to send on")
    where = (
        f"on the connection {bare.connection} that had just carried the session's bearer"
        if bare.connection == authenticated.connection
        else "on a new connection: the deployment closed the one that had carried the session's bearer"
    )
    expect.status(bare, range(400, 500), f"a request without credentials {where}")
