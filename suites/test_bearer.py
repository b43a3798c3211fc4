"""Bearer rejection: every protected operation refuses what is not a valid bearer token."""

import pytest

from ghippo_conformance.checks import batch, cases, expect, routing, shapes, tokens
from ghippo_conformance.checks.applies import case_does_not_apply
from ghippo_conformance.checks.challenges import bearer_challenge_params, offers_bearer
from ghippo_conformance.checks.expect import refused
from ghippo_conformance.checks.pages import first_page

# Under xdist, the tests reading the requests without Authorization run on one worker, which sends them once per path.
reads_the_requests_without_authorization = pytest.mark.xdist_group("requests-without-authorization")


@pytest.fixture(scope="module")
def without_authorization(api, protected_path) -> dict:
    """The answers to the protected path in every shape that applies to it, without Authorization, by
    shape id; sent side by side."""
    applying = [row for row in shapes.rows() if shapes.applies(row, "GET", protected_path)]
    return batch.answers(api, [shapes.batched(row["id"], row, "GET", protected_path) for row in applying])


@pytest.mark.requirement("AUTH-MISSING")
@reads_the_requests_without_authorization
@pytest.mark.parametrize("shape", cases.params(shapes.TABLE))
def test_request_without_authorization_is_refused(without_authorization, profile, protected_path, shape):
    """A request without an Authorization header gets the unauthenticated status, in every shape."""
    if not shapes.applies(shape, "GET", protected_path):
        case_does_not_apply(
            f"GET {protected_path} declares no query parameter: the as-documented case sends this shape"
        )
    what = f"a request without Authorization, {shape['description']}"
    exchange = without_authorization[shape["id"]].answered(what)
    expect.status(exchange, shapes.shaped(shape, "GET", protected_path).refusals(profile), what)


# Under xdist, the requests reaching the protected reads in other spellings go from one worker, once.
reads_the_routed_requests = pytest.mark.xdist_group("routed-requests")


@pytest.fixture(scope="module")
def reads_in_other_spellings(api, protected_reads) -> dict:
    """The answers to the protected reads in every spelling, sent as written without Authorization, by
    (row id, path)."""
    return batch.answers(
        api,
        [
            routing.spelling_request((row["id"], path), row, path)
            for row in routing.spelling_rows()
            for path in routing.reads_spelt(row, protected_reads)
        ],
    )


@pytest.mark.requirement("AUTH-ANY-SPELLING")
@reads_the_routed_requests
@pytest.mark.parametrize("spelling", cases.params(routing.SPELLINGS))
def test_no_spelling_of_a_path_reaches_it_without_authorization(reads_in_other_spellings, protected_reads, spelling):
    """No spelling of a protected read's path that a router may resolve to it serves it without credentials."""
    for path in routing.reads_spelt(spelling, protected_reads):
        what = f"GET {routing.spelt(spelling, path)} ({spelling['description']}) without Authorization"
        routing.serves_nothing(reads_in_other_spellings[(spelling["id"], path)], spelling, what)


@pytest.mark.requirement("AUTH-MALFORMED")
@pytest.mark.parametrize("case", cases.params("malformed-authorization"))
def test_malformed_authorization_is_refused(api, profile, bearer, protected_path, case):
    """A malformed Authorization header gets 401 (or 400 when its syntax is broken)."""
    head, payload, signature = bearer.split(".") if bearer.count(".") == 2 else (bearer, "", "")
    header = case["header"].format(
        token=bearer, two_segments=f"{head}.{payload}", four_segments=f"{bearer}.{signature[:8]}"
    )
    exchange = api.get(protected_path, authorization=header)
    refused(exchange, profile, f"Authorization {case['description']}", syntax_error=case["syntax_error"])


@pytest.mark.requirement("AUTH-EXPIRED")
def test_documentation_sample_token_is_refused(api, profile, documentation_token, protected_path):
    """The documentation's sample token, expired since 2022-08-25, is refused."""
    refused(api.get(protected_path, bearer=documentation_token), profile, "the expired sample token")


@pytest.mark.requirement("AUTH-SECRET-NOT-BEARER")
@pytest.mark.parametrize("presented", ["ak", "sk", "ak:sk"])
def test_key_pair_is_not_a_bearer(api, profile, credentials, protected_path, presented):
    """The AK, the SK or AK:SK presented as a bearer is refused."""
    value = {"ak": credentials.ak, "sk": credentials.sk, "ak:sk": f"{credentials.ak}:{credentials.sk}"}[presented]
    # ':' is outside RFC 6750's b64token, so "Bearer AK:SK" is a syntactically broken header.
    refused(
        api.get(protected_path, bearer=value), profile, f"the {presented} as a bearer", syntax_error=":" in presented
    )


# Under xdist, the tests that read the sample run on one worker, which sends it once per path.
reads_the_rejections = pytest.mark.xdist_group("rejection-sample")


@pytest.fixture(scope="module")
def rejections(api, bearer, documentation_token, protected_path):
    """A sample of refused requests, with the token each presented (None: no header)."""
    presented = [
        None,
        "not-a-token",
        tokens.unsigned(bearer),
        tokens.with_flipped_signature_byte(bearer),
        documentation_token,
    ]
    return [(token, api.get(protected_path, bearer=token)) for token in presented]


def unauthorized(rejections, profile):
    status = profile.auth.unauthenticated_status
    refusals = [exchange for _, exchange in rejections if exchange.status == status]
    if not refusals:
        pytest.skip(f"no request was answered {status} (AUTH-MISSING reports the status used)")
    return refusals


@pytest.mark.requirement("AUTH-CHALLENGE")
@reads_the_rejections
def test_refusal_carries_bearer_challenge(rejections, profile):
    """Every 401 carries WWW-Authenticate with the Bearer scheme."""
    for exchange in unauthorized(rejections, profile):
        challenge = exchange.headers.get("www-authenticate", "")
        expect.that(
            offers_bearer(challenge),
            f"expected a Bearer challenge in WWW-Authenticate, got {challenge or 'no header'}",
            exchange,
        )


@pytest.mark.requirement("AUTH-CHALLENGE-ERROR")
@reads_the_rejections
def test_challenge_names_invalid_token_only_when_one_was_presented(rejections, profile):
    """A 401 to a presented token says error="invalid_token"; a 401 to no credentials names no error."""
    challenged = [
        (token, exchange, params)
        for token, exchange in rejections
        if exchange.status == profile.auth.unauthenticated_status
        and (params := bearer_challenge_params(exchange.headers.get("www-authenticate", ""))) is not None
    ]
    if not challenged:
        pytest.skip("no 401 carried a Bearer challenge (AUTH-CHALLENGE reports it)")
    for token, exchange, params in challenged:
        got = params.get("error")
        if token is None:
            expect.that(got is None, f"expected no error attribute without credentials, got error={got!r}", exchange)
        else:
            expect.that(got == "invalid_token", f'expected error="invalid_token" to a bad token, got {got!r}', exchange)


@pytest.mark.requirement("AUTH-ERROR-BODY")
@reads_the_rejections
def test_refusal_body_is_unauthenticated_error(rejections, profile):
    """Every 401 body is an error body with gRPC code 16."""
    for exchange in unauthorized(rejections, profile):
        body = expect.error_body(exchange, "a 401")
        expect.that(body["code"] == 16, f"expected gRPC code 16 (UNAUTHENTICATED), got {body['code']}", exchange)


@pytest.mark.requirement("AUTH-NO-ECHO")
@reads_the_rejections
def test_refusal_does_not_echo_token(rejections):
    """No refusal repeats the presented token in its body or headers."""
    for token, exchange in rejections:
        if token is None:
            continue
        echoed = token in exchange.text or any(token in v for v in exchange.headers.values())
        expect.that(not echoed, "the refusal echoes the presented token", exchange)


@pytest.mark.requirement("AUTH-SCHEME-CASE")
@pytest.mark.parametrize("scheme", ["bearer", "BEARER"])
def test_scheme_is_case_insensitive(api, profile, bearer, protected_path, scheme):
    """A valid token under a differently cased scheme is accepted."""
    params = first_page(profile) if protected_path == profile.paths.users else None
    expect.status(
        api.get(protected_path, params=params, authorization=f"{scheme} {bearer}"),
        200,
        f"a valid token under the scheme {scheme!r}",
    )
