"""The API acts as the bearer's subject: whatever identity an answer names is the one the presented credential
belongs to (API-ACTS-AS-BEARER).

This module runs after test_keys.py on purpose: its key-creating rows take a key slot, and KEY-LIMIT-RELEASE,
the first key check, must meet a deployment that never frees a slot with its free slots still free.
"""

import pytest

from ghippo_conformance.checks import cases, expect, identity, tokens
from ghippo_conformance.checks.applies import case_does_not_apply


@pytest.fixture(autouse=True)
def each_check_frees_its_keys(key_ledger):
    """A row's keys are deleted as soon as it ends, so the next key check has the slot it needs."""
    yield
    key_ledger.delete_created()


@pytest.fixture(scope="module")
def session_current_user(api, profile, bearer):
    """current-user as the session's bearer sees it."""
    return api.get(profile.paths.current_user, bearer=bearer)


def token_holder(token: str, what: str) -> identity.Named:
    if not tokens.is_compact_jws(token):
        pytest.skip(f"{what} is not a JWT: it names no subject to compare")
    return identity.named_by_token(token)


def new_key(key_ledger, purpose: str) -> dict:
    """A key of the session's user, or a skip when none can be made (KEY-CREATE and KEY-LIMIT judge that): no
    free slot is looked for first, since a refused create says as much for one request less."""
    made = key_ledger.create(purpose)
    if made.status != 200:
        pytest.skip(f"creating a key was refused ({made.status}); KEY-CREATE and KEY-LIMIT judge that")
    return made.json()


def current_user_names_token_holder(request):
    """current-user with the session's bearer names the user the bearer's token names."""
    answer = request.getfixturevalue("session_current_user")
    named = identity.named_by_current_user(answer, "current-user with the session's bearer")
    holder = token_holder(request.getfixturevalue("bearer"), "the session's bearer")
    expect.that(
        identity.names_the_token_holder(named, holder),
        f"current-user names {named}; the session's bearer belongs to {holder}",
        answer,
    )


def session_pair_listed(request):
    """The key list read with the session's token lists the session's own pair (its AK is the key's id)."""
    api, profile = request.getfixturevalue("api"), request.getfixturevalue("profile")
    ledger, credentials = request.getfixturevalue("key_ledger"), request.getfixturevalue("credentials")
    listing = ledger.list()
    listed = identity.listed_ids(listing, "the key list read with the session's token")
    if credentials.ak in listed:
        return
    # Not listed: the list is someone else's, or the pair is gone (a delete that removed another key than the
    # one named, say). Only a pair that still works shows which.
    pair = api.get(profile.paths.token, params={"ak": credentials.ak, "sk": credentials.sk})
    if pair.status != 200:
        pytest.skip(
            f"the session's pair is no longer listed and no longer works ({pair.status} at the token endpoint): "
            "removed during the run, it cannot show whose list this is; KEY-REVOKE judges deletes"
        )
    unlisted = f"the session's pair (AK {credentials.ak}) works but is not among the keys listed: {listed[:10]}"
    expect.that(False, unlisted, listing, pair)


def new_pair_token_names_same_holder(request):
    """A token exchanged for a pair the session's user creates names the session token's holder."""
    api, profile = request.getfixturevalue("api"), request.getfixturevalue("profile")
    session_holder = token_holder(request.getfixturevalue("bearer"), "the session's bearer")
    pair = new_key(request.getfixturevalue("key_ledger"), "subject-pair")
    issued = api.get(profile.paths.token, params={"ak": pair["id"], "sk": pair["token"]})
    body = issued.json()
    token = body.get("token") if isinstance(body, dict) else None
    if issued.status != 200 or not isinstance(token, str):
        pytest.skip(f"no token was issued for the new pair ({issued.status}); TOKEN-ISSUE judges the token endpoint")
    holder = token_holder(token, "the new pair's token")
    expect.that(
        identity.same_id(holder.id, session_holder.id),
        f"the token for a pair the session's user created names sub {holder.id!r}; "
        f"the session's own token names {session_holder.id!r}",
        issued,
    )


def new_key_acts_as_its_creator(request):
    """An access key the session's user creates acts as that user: current-user names them, the list lists it."""
    api, profile = request.getfixturevalue("api"), request.getfixturevalue("profile")
    creator = identity.named_by_current_user(
        request.getfixturevalue("session_current_user"), "current-user with the session's access key"
    )
    key = new_key(request.getfixturevalue("key_ledger"), "subject-key")
    answer = api.get(profile.paths.current_user, bearer=key["token"])
    named = identity.named_by_current_user(answer, "current-user with the new access key")
    expect.that(
        identity.same_user(named, creator),
        f"current-user with a key the session's user created names {named}; with the session's key, {creator}",
        answer,
    )
    listing = api.get(profile.paths.list_keys, bearer=key["token"])
    listed = identity.listed_ids(listing, "the key list read with the new access key")
    expect.that(key["id"] in listed, f"the new key {key['id']} is not among the keys listed with it", listing)


CHECKS = {
    "current-user-names-token-holder": current_user_names_token_holder,
    "session-pair-listed": session_pair_listed,
    "new-pair-token-names-same-holder": new_pair_token_names_same_holder,
    "new-key-acts-as-its-creator": new_key_acts_as_its_creator,
}


@pytest.mark.requirement("API-ACTS-AS-BEARER")
@pytest.mark.parametrize("case", cases.params("acts-as-bearer"))
def test_answers_name_the_bearers_subject(request, profile, case):
    """Whatever identity an answer names is the one the presented credential belongs to."""
    if profile.flow not in case["flows"]:
        flows = " and ".join(case["flows"])
        case_does_not_apply(f"{case['id']} applies to the {flows} flow; profile {profile.name} uses {profile.flow}")
    CHECKS[case["check"]](request)
