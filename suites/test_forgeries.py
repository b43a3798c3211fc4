"""The bearer-attack catalogue: every forgery the public record knows is refused.

The cases are data (fixtures/cases/: embedded-key, alg-pinned, kid-injection, tampered, alg-none,
alg-confusion, foreign-key, single-credential, oversized), built from the session's valid bearer by
checks/forgeries.py and sent once, side by side, to the users list: each verifier code path needs
one hit, not one per protected operation; the classic cases (every_protected_read) go to each
protected read operation. Each test judges the answers to its own table's rows. The one row that would create a key on a
deployment that accepts it (a bearer in a form body) is sent on its own, with the other key-slot tests.
"""

import pytest

from ghippo_conformance.checks import attacks, cases, expect
from ghippo_conformance.checks.expect import refused

# Under xdist the catalogue is sent once, on the one worker that runs every test reading it.
pytestmark = pytest.mark.xdist_group("bearer-attack-catalogue")


@pytest.fixture(scope="module")
def catalogue(api, protected_reads, bearer, jwks) -> attacks.Answers:
    return attacks.send_catalogue(api, protected_reads, bearer, jwks)


@pytest.mark.requirement("AUTH-EMBEDDED-KEY")
@pytest.mark.parametrize("case", cases.params("embedded-key"))
def test_token_carrying_its_own_key_is_refused(catalogue, profile, case):
    """A token signed by the key it carries, or names by URL, is refused, in time and without a 5xx."""
    catalogue.refused_every_time(profile, "embedded-key", case)


@pytest.mark.requirement("AUTH-ALG-PINNED")
@pytest.mark.parametrize("case", cases.params("alg-pinned"))
def test_token_under_another_alg_is_refused(catalogue, profile, case):
    """A token under an alg the profile does not accept is refused, however it is signed."""
    catalogue.refused_every_time(profile, "alg-pinned", case)


@pytest.mark.requirement("AUTH-KID-INJECTION")
@pytest.mark.parametrize("case", cases.params("kid-injection"))
def test_injected_kid_is_refused(catalogue, profile, case):
    """A kid that is a path, a query, a command, a URL, empty, absent or very long gets 401."""
    catalogue.refused_every_time(profile, "kid-injection", case)


@pytest.mark.requirement("AUTH-TAMPERED")
@pytest.mark.parametrize("case", cases.params("tampered"))
def test_tampered_token_is_refused(catalogue, profile, case):
    """A valid token altered after signing is refused: a flipped signature byte, a changed claim, no signature,
    a changed header, an RSA signature integer no key made."""
    catalogue.refused_every_time(profile, "tampered", case)


@pytest.mark.requirement("AUTH-ALG-NONE")
@pytest.mark.parametrize("case", cases.params("alg-none"))
def test_unsigned_token_is_refused(catalogue, profile, case):
    """The token re-encoded with alg none in any spelling, its signature dropped or kept, is refused."""
    catalogue.refused_every_time(profile, "alg-none", case)


@pytest.mark.requirement("AUTH-ALG-CONFUSION")
@pytest.mark.parametrize("case", cases.params("alg-confusion"))
def test_hmac_token_is_refused(catalogue, profile, case):
    """An HS256, HS384 or HS512 token keyed with any encoding of the public key, or a blank or common
    secret, is refused."""
    catalogue.refused_every_time(profile, "alg-confusion", case)


@pytest.mark.requirement("AUTH-FOREIGN-KEY")
@pytest.mark.parametrize("case", cases.params("foreign-key"))
def test_token_signed_by_foreign_key_is_refused(catalogue, profile, case):
    """The same claims signed by a key the deployment never issued are refused, under the bearer's kid, an
    unknown one, an empty one or none."""
    catalogue.refused_every_time(profile, "foreign-key", case)


@pytest.mark.requirement("AUTH-SINGLE-CREDENTIAL")
@pytest.mark.parametrize("case", attacks.params("single-credential", sent_alone=False))
def test_bearer_is_read_from_one_header_only(catalogue, profile, case):
    """Two Authorization headers get 400 or 401; a bearer in the access_token parameter is not accepted."""
    for label, outcome in catalogue.of("single-credential", case):
        what = f"{case['description']} ({label})"
        refused(outcome.answered(what), profile, what, syntax_error=len(case["authorization"]) > 1)


# A test of its own, not a row of the one above: it needs the key ledger, and runs with the key-slot
# tests (serialized under xdist, left out by --read-only), where the catalogue's batch is not sent.
@pytest.mark.requirement("AUTH-SINGLE-CREDENTIAL")
@pytest.mark.parametrize("case", attacks.params("single-credential", sent_alone=True))
def test_bearer_in_a_form_body_is_not_accepted(api, profile, bearer, key_ledger, case):
    """A bearer in the access_token field of a form-encoded body, without the header, creates no key."""
    if key_ledger.free_slots() == 0:
        pytest.skip("the user holds as many keys as the limit allows: a create would be refused whatever the bearer")
    exchange = attacks.create_with_bearer_in_form(api, profile, key_ledger, bearer, case)
    # The operation takes a JSON body: a deployment may refuse the form as a body it cannot read (400,
    # 415) before it looks for credentials. A 2xx is the bearer taken, and a 5xx no refusal.
    expect.status(exchange, {profile.auth.unauthenticated_status, 400, 415}, case["description"])


@pytest.mark.requirement("AUTH-OVERSIZED")
@pytest.mark.parametrize("case", cases.params("oversized"))
def test_oversized_bearer_gets_a_client_error(catalogue, profile, case):
    """An oversized bearer gets 400, the unauthenticated status, 413 or 431, or a closed connection; never a 5xx."""
    allowed = {400, profile.auth.unauthenticated_status, 413, 431}
    for _, outcome in catalogue.of("oversized", case):
        if attacks.closed_connection(outcome):
            continue  # RFC 9112 section 9.6 lets a server close a connection it will not serve
        expect.status(outcome.answered(case["description"]), allowed, case["description"])
