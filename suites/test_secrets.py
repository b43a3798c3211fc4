"""Secrets stay where they were handed out: no answer carries a secret of the run's it was not sent.

The test draws the answers a leak is likeliest in and judges them; every other answer of the run,
from the session-start check to the run-end sweep, is judged by the run's watch in the one HTTP
helper (ghippo_conformance/deployment/leaks.py), which fails API-NO-SECRET-LEAK at the run's end for
each leak it met, whichever test or xdist worker met it.
"""

import pytest

from ghippo_conformance.checks import cases, expect


@pytest.mark.requirement("API-NO-SECRET-LEAK")
@pytest.mark.parametrize("case", cases.params("leak-prone-answers"))
def test_no_answer_carries_a_secret_it_was_not_sent(api, profile, bearer, case):
    """current-user, the users list, the key list and an error carry no secret their request did not send."""
    exchange = api.get(getattr(profile.paths, case["operation"]), params=case["query"] or None, bearer=bearer)
    leaks = api.leaks.judged(exchange)
    expect.that(not leaks, "\n".join(leak.report() for leak in leaks))
