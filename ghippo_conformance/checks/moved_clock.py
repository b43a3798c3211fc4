"""AUTH-EXPIRED-OWN in one run, against a reference deployment: its own token presented with its clock
moved past the token's exp, for that one request.

A reference deployment (the embedded one, or one started elsewhere and named by --reference-clock)
answers a request carrying its clock key as if its clock ran ahead (ghippo_reference.server.CLOCK_HEADER):
its Date, and the exp it judges. No other request sees the clock moved, so tests that run meanwhile
on other xdist workers are not disturbed. The answer's Date header proves the clock moved; a
deployment that ignores the key (no reference, or another reference's key) is never judged by it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from ghippo_conformance.checks.token_records import issued_token, present
from ghippo_conformance.deployment.clock import moment, stamp
from ghippo_conformance.deployment.http import Api, Exchange
from ghippo_conformance.deployment.profile import Section
from ghippo_reference.clock_control import clock_moved

# How far past exp plus the allowed clock skew the moved clock stands: clear of any rounding of exp.
_PAST_BY_S = 1


@dataclass(frozen=True)
class MovedClockToken:
    token: str = field(repr=False)
    sub: str
    exp: float
    issued_at: float  # the deployment's clock when it issued the token
    moved_to: float  # the deployment's clock for the request that presents it

    def described(self) -> str:
        return (
            f"a token of {self.sub} issued at {moment(self.issued_at)}, exp {moment(self.exp)}, presented with "
            f"the deployment's clock moved to {moment(self.moved_to)}"
        )


class MovedClock:
    """Expired tokens of this run, for a deployment whose clock the run may move (its clock key)."""

    def __init__(self, key: str) -> None:
        self._key = key

    def due(self, api: Api, profile: Section, issued: Exchange, clock_s: float) -> list[MovedClockToken]:
        """The token `issued`, once it proved usable now, to be presented past its exp plus the profile's
        clock skew; skipped when it cannot prove anything (no such token, or refused before its exp)."""
        found = issued_token(issued)
        if found is None:
            pytest.skip(
                f"the short-lived token request answered {issued.status} with no JWT holding sub and exp "
                "(TOKEN-CYCLE and TOKEN-CLAIMS judge that): no token to present once expired"
            )
        fresh = present(api, profile, found.token)
        if fresh.status != 200:
            pytest.skip(
                f"the deployment refused its own fresh token ({fresh.status}) before its exp: a refusal once it "
                "expired would prove nothing (TOKEN-USABLE judges the tokens it issues)"
            )
        moved_to = found.exp + profile.token.clock_skew_s + _PAST_BY_S
        return [MovedClockToken(found.token, found.sub, found.exp, clock_s, moved_to)]

    def present(self, api: Api, profile: Section, expired: MovedClockToken) -> Exchange:
        """Present the token with the clock moved; skipped when the answer's Date shows it did not move."""
        answer = present(api, profile, expired.token, clock_moved(self._key, expired.moved_to - expired.issued_at))
        answered = stamp(answer)
        if answered is None or answered.at < expired.exp + profile.token.clock_skew_s:
            pytest.skip(
                f"the deployment did not move its clock for the clock key (its Date says "
                f"{answer.headers.get('date', 'nothing')}, the token's exp is {moment(expired.exp)}): it is no "
                "reference deployment that knows the --reference-clock key given"
            )
        return answer
