"""Bearer rejection: every protected operation refuses what is not a valid bearer token."""

import pytest

from ghippo_conformance.checks import cases, expect, tokens
from ghippo_conformance.checks.challenges import offers_bearer
from ghippo_conformance.checks.expect import refused
from ghippo_conformance.checks.pages import first_page


@pytest.mark.requirement("AUTH-MISSING")
def test_request_without_authorization_is_refused(api, profile, protected_path):
    """A request without an Authorization header gets the unauthenticated status."""
    refused(api.get(protected_path), profile, "a request without Authorization")


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


@pytest.mark.requirement("AUTH-TAMPERED")
@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(tokens.with_flipped_signature_byte, id="signature-byte-flipped"),
        pytest.param(lambda t: tokens.with_claims(t, sub=tokens.claims(t).get("sub", "") + "x"), id="sub-changed"),
        pytest.param(
            lambda t: tokens.with_claims(t, exp=tokens.claims(t).get("exp", 0) + 31_536_000), id="exp-extended"
        ),
    ],
)
def test_tampered_token_is_refused(api, profile, bearer, protected_path, tamper):
    """A valid token altered after signing is refused."""
    refused(api.get(protected_path, bearer=tamper(bearer)), profile, "a tampered token")


@pytest.mark.requirement("AUTH-ALG-NONE")
@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
def test_unsigned_token_is_refused(api, profile, bearer, protected_path, alg):
    """The token re-encoded with alg none and an empty signature is refused."""
    refused(api.get(protected_path, bearer=tokens.unsigned(bearer, alg)), profile, f"an alg={alg} token")


@pytest.mark.requirement("AUTH-ALG-CONFUSION")
@pytest.mark.parametrize("encoding", ["spki-pem", "pkcs1-pem", "jwk-json", "arbitrary-secret"])
def test_hs256_token_is_refused(api, profile, bearer, jwks, protected_path, encoding):
    """An HS256 token keyed with the public key, or any secret, is refused."""
    if encoding == "arbitrary-secret":
        secret = b"conformance-arbitrary-secret"
    else:
        kid = tokens.header(bearer).get("kid")
        key = next((k for k in (jwks or {}).get("keys", []) if k.get("kid") == kid), None)
        if key is None:
            pytest.skip(f"no public key with the token's kid {kid!r} to confuse (TOKEN-JWKS checks the key set)")
        secret = tokens.public_key_encodings(key)[encoding]
    forged = tokens.hs256_signed(bearer, secret)
    refused(api.get(protected_path, bearer=forged), profile, f"an HS256 token keyed with {encoding}")


@pytest.mark.requirement("AUTH-FOREIGN-KEY")
def test_token_signed_by_foreign_key_is_refused(api, profile, bearer, protected_path):
    """The same claims and kid, signed by a key the deployment never issued, are refused."""
    forged = tokens.signed_with_foreign_key(bearer)
    refused(api.get(protected_path, bearer=forged), profile, "a token signed by a foreign key")


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
