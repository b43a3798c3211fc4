"""Error bodies: whatever fails, the body says so as {code, message, details}."""

import pytest

from ghippo_conformance.checks import expect

# Requests that should draw an error from any Ghippo deployment; the status is other requirements'
# concern. No unknown path here: an ingress, not Ghippo, may answer that one.
ERROR_SAMPLES = {
    "no-credentials": lambda api, profile, bearer: api.get(profile.paths.users),
    "invalid-page-size": lambda api, profile, bearer: api.get(
        profile.paths.users, params={"pageSize": "ten"}, bearer=bearer
    ),
    "unknown-key": lambda api, profile, bearer: api.send(
        "DELETE", profile.paths.delete_key.format(id="conformance-no-such-key"), bearer=bearer
    ),
}


@pytest.mark.requirement("SCHEMA-ERROR")
@pytest.mark.parametrize("sample", ERROR_SAMPLES)
def test_error_body_is_status_shaped(api, profile, bearer, sample):
    """An error answer carries {code: integer, message: string, details: array}."""
    exchange = ERROR_SAMPLES[sample](api, profile, bearer)
    if exchange.status < 400:
        pytest.skip(f"the deployment answered {exchange.status}: no error body to check")
    expect.error_body(exchange, f"the {sample} error")
