"""Expiry across runs: the deployment refuses its own tokens once their exp has passed.

No run can wait out the shortest lifetime the AK/SK flow grants (cycle=1, a day), so each run keeps
such a token in the state directory (--state-dir) and a later run presents it. Whether a token is
due is read from the deployment's clock (its Date header, or the iat it stamped), never the runner's.
"""

import pytest

from ghippo_conformance.checks import expect
from ghippo_conformance.checks.clock import moment, stamp

# cycle counts days from 1: the shortest-lived token a pair can be exchanged for.
SHORTEST_CYCLE = 1


@pytest.mark.requirement("AUTH-EXPIRED-OWN")
def test_own_token_is_refused_once_expired(api, profile, credentials, token_records):
    """A token the deployment issued is refused once its exp has passed on the deployment's clock."""
    issued = api.get(profile.paths.token, params={"ak": credentials.ak, "sk": credentials.sk, "cycle": SHORTEST_CYCLE})
    answered = stamp(issued)
    if answered is None:
        pytest.skip(
            "the token response has neither a readable Date header nor a token with an iat: the deployment's "
            "clock, which decides expiry, is unknown"
        )
    clock = answered.at
    skew = profile.token.clock_skew_s
    due = token_records.due(clock, skew)
    kept = token_records.keep_issued(issued, clock)
    if not due:
        pytest.skip(_when_checkable(token_records.earliest(), skew, clock, kept is not None, issued.status))
    accepted = []
    for record in due:
        answer = api.get(profile.paths.users, bearer=record.token)
        token_records.forget(record)
        if answer.status != profile.auth.unauthenticated_status:
            accepted.append(
                (
                    f"a token of {record.sub} recorded on {record.recorded_on}, exp {moment(record.exp)}, "
                    f"answered {answer.status} at the deployment's Date {answer.headers.get('date', '(none)')}",
                    answer,
                )
            )
    expect.that(
        not accepted,
        f"expected {profile.auth.unauthenticated_status} for tokens the deployment issued whose exp has passed "
        f"(more than the {skew} s clock skew) on its own clock: " + "; ".join(text for text, _ in accepted),
        *(answer for _, answer in accepted),
    )


def _when_checkable(earliest, skew: int, clock: float, kept: bool, issued_status: int) -> str:
    """The skip reason: when a later run can check, or why this one could not keep a token."""
    if earliest is None:
        return (
            f"no token is recorded for this deployment, and this run could not keep one: cycle={SHORTEST_CYCLE} "
            f"answered {issued_status} (TOKEN-CYCLE judges that)"
        )
    kept_now = "" if kept else f"; this run kept no token of its own (cycle={SHORTEST_CYCLE} answered {issued_status})"
    return (
        f"a token recorded on {earliest.recorded_on} expires at {moment(earliest.exp)}; run again after "
        f"{moment(earliest.checkable_after(skew))} on the deployment's clock (now {moment(clock)}){kept_now}"
    )
