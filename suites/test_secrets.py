"""Secrets stay where they were handed out: no answer carries a secret of the run's it was not sent.

The test draws the answers a leak is likeliest in and judges them; every other answer of the run,
from the session-start check to the run-end sweep, is judged by the run's watch in the one HTTP
helper (ghippo_conformance/deployment/leaks.py), which fails API-NO-SECRET-LEAK at the run's end for
each leak it met, whichever test or xdist worker met it.
"""

import pytest

from ghippo_conformance.checks import cases, expect
from ghippo_conformance.deployment.keys import authenticate_with


@pytest.fixture(scope="module")
def another_secret_issued(api, profile, key_ledger):
    """A key of the run's, used once the way its flow uses it (its pair exchanged for a token, or the key
    presented): the user now holds secrets the session's bearer never sends, as in a whole run, so a rerun
    of this requirement alone meets the leaks a whole run meets. A refused create leaves the check to the
    secrets the run already knows (KEY-CREATE and KEY-LIMIT judge the refusal); the key goes after the
    module's checks."""
    made = key_ledger.create("secret-in-play")
    if made.status == 200:
        authenticate_with(api, profile, made.json())
    yield
    key_ledger.delete_created()


# key_slots: the key it makes shares the user's quota with the key checks (one xdist group), and --read-only
# leaves it out; the run's watch still judges every answer of such a run.
@pytest.mark.requirement("API-NO-SECRET-LEAK")
@pytest.mark.key_slots
@pytest.mark.parametrize("case", cases.params("leak-prone-answers"))
@pytest.mark.usefixtures("another_secret_issued")
def test_no_answer_carries_a_secret_it_was_not_sent(api, profile, bearer, case):
    """current-user, the users list, the key list and an error carry no secret their request did not send,
    while the user holds another key and its bearer."""
    exchange = api.get(getattr(profile.paths, case["operation"]), params=case["query"] or None, bearer=bearer)
    leaks = api.leaks.judged(exchange)
    expect.that(not leaks, "\n".join(leak.report() for leak in leaks))
