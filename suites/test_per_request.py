"""Every request stands alone: what an earlier request presented on a connection lends nothing to a later one."""

import pytest

from ghippo_conformance.checks import expect
from ghippo_conformance.checks.pages import first_page


@pytest.mark.requirement("AUTH-PER-REQUEST")
def test_a_connection_lends_no_credentials(api, profile, bearer):
    """A request without an Authorization header, on a keep-alive connection that has just carried the session's
    valid bearer, gets the unauthenticated status."""
    with api.one_connection():
        authenticated = api.get(profile.paths.users, params=first_page(profile), bearer=bearer)
        bare = api.get(profile.paths.users, params=first_page(profile))
    expect.status(authenticated, 200, "the session's bearer, opening a connection")
    where = (
        f"on the connection {bare.connection} that had just carried the session's bearer"
        if bare.connection == authenticated.connection
        else "on a new connection: the deployment closed the one that had carried the session's bearer"
    )
    expect.status(bare, profile.auth.unauthenticated_status, f"a request without credentials {where}")
