"""The AK/SK token endpoint: issuing, lifetime, claims and refusals."""

import uuid

import pytest

from ghippo_conformance.checks import cases, expect, key_sets, secrets, tokens
from ghippo_conformance.checks.pages import first_page
from ghippo_conformance.deployment import clock
from ghippo_conformance.deployment.clock import moment


def request_token(api, profile, **params):
    return api.get(profile.paths.token, params=params)


@pytest.fixture(scope="module")
def issued(api, profile, credentials):
    """The token endpoint's answer to the session's pair, without cycle."""
    return request_token(api, profile, ak=credentials.ak, sk=credentials.sk)


@pytest.fixture(scope="module")
def issued_token(issued) -> str:
    token = tokens.issued_jwt(issued.status, issued.json())
    if token is None:
        pytest.skip("no JWT was issued for the session's pair (TOKEN-ISSUE and SCHEMA-TOKEN report why)")
    return token


def lifetime(token: str) -> int:
    token_claims = tokens.claims(token)
    return token_claims["exp"] - token_claims["iat"]


@pytest.mark.requirement("TOKEN-ISSUE")
def test_valid_pair_gets_token(issued):
    """A valid AK and SK get 200 and a token."""
    expect.status(issued, 200, "the session's AK and SK")
    body = expect.json_body(issued, "the token response")
    expect.that(isinstance(body, dict) and body.get("token"), "expected a token in the response", issued)


@pytest.mark.requirement("SCHEMA-TOKEN")
def test_token_response_is_a_compact_jws(issued):
    """The token response is {"token": <compact JWS>}."""
    expect.conforms(expect.json_body(issued, "the token response"), "token-response", "the token response", issued)


@pytest.mark.requirement("TOKEN-DEFAULT-EXPIRY")
def test_token_lives_default_lifetime(issued, issued_token, profile):
    """Without cycle, exp - iat is the profile's default lifetime."""
    expected = profile.token.default_lifetime_s
    expect.that(
        lifetime(issued_token) == expected, f"expected exp - iat = {expected} s, got {lifetime(issued_token)} s", issued
    )


# The documentation's example asks cycle=7 and no source bounds cycle: a deployment may refuse a
# longer one with a 4xx, but a cycle it grants must last exactly that long.
DOCUMENTED_CYCLE_DAYS = 7


@pytest.mark.requirement("TOKEN-CYCLE")
@pytest.mark.parametrize("days", [1, 2, 7, 30])
def test_cycle_sets_lifetime_in_days(api, profile, credentials, days):
    """With cycle=N, exp - iat is N days; past the documented 7 days, a refusal (4xx) is a bound."""
    exchange = request_token(api, profile, ak=credentials.ak, sk=credentials.sk, cycle=days)
    if days > DOCUMENTED_CYCLE_DAYS and exchange.status in range(400, 500):
        return
    expect.status(exchange, 200, f"cycle={days}")
    token = expect.json_body(exchange, f"cycle={days}").get("token", "")
    expect.that(tokens.is_compact_jws(token), "expected a JWT in the response", exchange)
    expected = days * profile.token.cycle_unit_s
    expect.that(
        lifetime(token) == expected,
        f"expected exp - iat = {expected} s for cycle={days}, got {lifetime(token)} s",
        exchange,
    )


@pytest.mark.requirement("TOKEN-CYCLE-INVALID")
@pytest.mark.parametrize("case", cases.params("cycle-invalid"))
def test_invalid_cycle_is_refused(api, profile, credentials, case):
    """An invalid cycle gets a 4xx error body, never a 5xx or a token with exp <= iat."""
    exchange = request_token(api, profile, ak=credentials.ak, sk=credentials.sk, cycle=case["cycle"])
    body = exchange.json()
    token = body.get("token") if isinstance(body, dict) else None
    if isinstance(token, str) and tokens.is_compact_jws(token):
        expect.that(lifetime(token) > 0, f"cycle={case['cycle']} gave a token with exp <= iat", exchange)
    expect.status(exchange, range(400, 500), f"{case['description']} (cycle={case['cycle']})")
    expect.error_body(exchange, f"cycle={case['cycle']}")


@pytest.fixture(scope="module")
def other_pair(key_ledger):
    """A second pair of the same user, for crossing AK and SK."""
    if key_ledger.free_slots() == 0:
        pytest.skip("the user holds as many keys as the limit allows: no second pair can be created")
    exchange = key_ledger.create("token-other-pair")
    if exchange.status != 200:
        pytest.skip(f"creating a second pair was refused ({exchange.status}); KEY-CREATE and KEY-LIMIT judge that")
    pair = exchange.json()
    yield pair
    key_ledger.delete(pair["id"])  # frees the slot for the key checks that may follow


@pytest.mark.requirement("TOKEN-BAD-CREDENTIALS")
@pytest.mark.parametrize("case", cases.params("bad-credentials"))
def test_bad_credentials_get_no_token(request, api, profile, credentials, case):
    """Wrong, unknown, crossed, missing, empty or nearly right AK or SK get a 4xx and no token."""
    own = {"ak": credentials.ak, "sk": credentials.sk}

    def value(name, kind):
        if kind == "other":
            return request.getfixturevalue("other_pair")["token"]
        if kind in secrets.NEAR_MISS_KINDS:
            return secrets.near_miss(own[name], kind, f"the {name.upper()}")
        return {"own": own[name], "own-ak": own["ak"], "own-sk": own["sk"], "unknown": str(uuid.uuid4()), "empty": ""}[
            kind
        ]

    params = {name: value(name, case[name]) for name in ("ak", "sk") if case[name] != "absent"}
    expect.no_token_issued(request_token(api, profile, **params), case["description"])


# RFC 9110 section 6.6.1 lets only a server without a clock leave Date out; one that stamps iat has a
# clock, yet Date is the transport's, not the token's. Without it iat is held against the runner's clock,
# which may be minutes or days off the deployment's: within a year still tells an iat written in
# milliseconds or microseconds, zero or negative, and judges no clock.
WITHOUT_DATE_TOLERANCE_S = 366 * 86400


@pytest.mark.requirement("TOKEN-CLAIMS")
def test_token_claims_are_well_formed(issued, issued_token, profile):
    """alg, kid, exp, iat, iss and sub are as the profile expects; iat agrees with Date (without one, with the
    runner's clock within a year)."""
    header, claims = tokens.header(issued_token), tokens.claims(issued_token)
    expect.that(
        header.get("alg") in profile.token.algorithms,
        f"expected alg in {profile.token.algorithms}, got {header.get('alg')!r}",
        issued,
    )
    expect.that(isinstance(header.get("kid"), str) and header["kid"], "expected a kid in the header", issued)
    for claim in ("exp", "iat"):
        value = claims.get(claim)
        expect.that(
            isinstance(value, (int, float)) and not isinstance(value, bool),
            f"expected {claim} as a NumericDate (a number of seconds), got {value!r}",
            issued,
        )
    expect.that(
        claims.get("iss") == profile.token.issuer,
        f"expected iss {profile.token.issuer!r}, got {claims.get('iss')!r}",
        issued,
    )
    expect.that(isinstance(claims.get("sub"), str) and claims["sub"], "expected a non-empty sub", issued)
    date = clock.date_of(issued)
    if date is not None:
        drift, tolerance = claims["iat"] - date.at, profile.token.clock_skew_s
        against = f"the response's Date ({moment(date.at)})"
    else:
        drift = claims["iat"] - issued.answered_within[1]
        tolerance, against = WITHOUT_DATE_TOLERANCE_S, "the runner's clock: the response has no Date header"
    expect.that(abs(drift) <= tolerance, f"iat is {drift:+.0f} s from {against}; tolerance {tolerance} s", issued)


@pytest.mark.requirement("TOKEN-USABLE")
def test_issued_token_is_accepted(api, profile, issued_token):
    """The issued token is accepted as a bearer on the users list."""
    exchange = api.get(profile.paths.users, params=first_page(profile), bearer=issued_token)
    expect.status(exchange, 200, "the issued token as bearer")


@pytest.mark.requirement("TOKEN-JWKS")
def test_key_set_verifies_bearer(key_set, bearer, profile):
    """The certs answer is a key set as schemas/jwks.json describes it, and a key with the bearer's kid verifies it."""
    key_sets.verifies(key_set, bearer, profile.token.algorithms)


@pytest.mark.requirement("TOKEN-JWKS-PUBLIC-ONLY")
@pytest.mark.parametrize("case", cases.params("key-set-public-only"))
def test_key_set_holds_public_keys_only(key_set, case):
    """Nothing at certs is private or symmetric key material."""
    key_sets.holds(key_set, case)


@pytest.mark.requirement("TOKEN-JWKS-STRONG-KEYS")
@pytest.mark.parametrize("case", cases.params("key-set-strong-keys"))
def test_key_set_rsa_keys_are_strong(key_set, case):
    """Every RSA key at certs is a readable public key of at least 2048 bits with a sound exponent."""
    key_sets.holds(key_set, case)


@pytest.mark.requirement("TOKEN-JWKS-COHERENT")
@pytest.mark.parametrize("case", cases.params("key-set-coherent"))
def test_key_set_is_coherent(key_set, bearer, case):
    """The keys at certs agree with the tokens they verify and with one another, and kids tell them apart."""
    key_sets.holds(key_set, case, bearer)
