"""Expiry of the deployment's own tokens: it refuses a token it issued once its exp has passed.

No run can wait out the shortest lifetime the AK/SK flow grants (cycle=1, a day). Against a deployment,
each run keeps such a token in the state directory (--state-dir) and a later run presents it; until one
is due the requirement is pending. Against a reference deployment, whose clock the run may move (the
embedded one, or --reference-clock), the run presents its own token with that clock moved past its exp.
Whether a token is due is read from the deployment's clock (its Date header, or the iat it stamped),
never the runner's.
"""

import pytest

from ghippo_conformance.checks import expect
from ghippo_conformance.deployment.clock import stamp

# cycle counts days from 1: the shortest-lived token a pair can be exchanged for.
SHORTEST_CYCLE = 1


@pytest.mark.requirement("AUTH-EXPIRED-OWN")
def test_own_token_is_refused_once_expired(api, profile, credentials, expired_tokens):
    """A token the deployment issued is refused once its exp has passed on the deployment's clock."""
    issued = api.get(profile.paths.token, params={"ak": credentials.ak, "sk": credentials.sk, "cycle": SHORTEST_CYCLE})
    answered = stamp(issued)
    if answered is None:
        pytest.skip(
            "the token response has neither a readable Date header nor a token with an iat: the deployment's "
            "clock, which decides expiry, is unknown"
        )
    accepted = []
    for expired in expired_tokens.due(api, profile, issued, answered.at):
        answer = expired_tokens.present(api, profile, expired)
        if answer.status != profile.auth.unauthenticated_status:
            date = answer.headers.get("date", "(none)")
            accepted.append((f"{expired.described()} answered {answer.status} at the deployment's Date {date}", answer))
    expect.that(
        not accepted,
        f"expected {profile.auth.unauthenticated_status} for tokens the deployment issued whose exp has passed "
        f"(more than the {profile.token.clock_skew_s} s clock skew) on its own clock: "
        + "; ".join(text for text, _ in accepted),
        *(answer for _, answer in accepted),
    )
