"""Bearer rejection: every protected operation refuses what is not a valid bearer token."""

import pytest

from ghippo_conformance.checks import batch, cases, expect, routing, shapes, tokens
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
        pytest.skip(f"GET {protected_path} declares no query parameter: the as-documented case sends this shape")
    what = f"a request without Authorization, {shape['description']}"
    exchange = without_authorization[shape["id"]].answered(what)
    expect.status(exchange, shapes.shaped(shape, "GET", protected_path).refusals(profile), what)


# Under xdist, the requests reaching the users list by other methods and spellings go from one worker, once.
reads_the_routed_requests = pytest.mark.xdist_group("routed-requests")
# The operations a methods row goes to, by their documented method, as test ids say them.
REACHED = {"GET": "users-list", "DELETE": "key-delete"}


def method_cases():
    """(methods row, documented method) for each operation a row reaches: the users list's reads go side
    by side; the deletes of the run's key are key-slot tests (serialized, left out by --read-only)."""
    for row in routing.method_rows():
        for documented in row["reaches"]:
            marks = [pytest.mark.key_slots] if documented == "DELETE" else [reads_the_routed_requests]
            yield pytest.param(row, documented, id=f"{row['id']}-{REACHED[documented]}", marks=marks)


@pytest.fixture(scope="module")
def users_list_by_other_methods(api, profile) -> dict:
    """The answers to the users list reached by every methods row, without Authorization, by row id."""
    path = profile.paths.users
    rows = [row for row in routing.method_rows() if "GET" in row["reaches"]]
    return batch.answers(api, [routing.method_request(row["id"], row, "GET", path) for row in rows])


@pytest.fixture(scope="module")
def key_deleted_by_other_methods(api, profile, key_ledger):
    """The answers to the delete of a key the run creates for it, reached by every methods row, without
    Authorization, by row id. A delete a broken deployment serves removes that key and no other.

    The key takes a slot only when two are free (or the profile sets no limit): a deployment whose delete
    keeps the slot must still leave the key checks the one they need."""
    free = key_ledger.free_slots()
    if free is not None and free < 2:
        pytest.skip(f"the user has {free} free key slot(s): the key checks need one, and this check another")
    created = key_ledger.create("other-methods")
    body = created.json()
    if created.status != 200 or not isinstance(body, dict) or not isinstance(body.get("id"), str):
        pytest.skip(f"creating a key was refused ({created.status}); KEY-CREATE and KEY-LIMIT judge that")
    path = profile.paths.delete_key.format(id=body["id"])
    answers: dict[str, batch.Outcome | str] = {}
    deleted_by = None
    # One at a time: after a delete served without credentials, the key is gone and a later row's 404
    # would say nothing; those rows are not sent.
    for row in (row for row in routing.method_rows() if "DELETE" in row["reaches"]):
        if deleted_by:
            answers[row["id"]] = f"not sent: the key was already deleted without credentials by {deleted_by}"
            continue
        (answers[row["id"]],) = batch.send_all(api, [routing.method_request(row["id"], row, "DELETE", path)])
        deleted_by = row["description"] if routing.served(answers[row["id"]], row) else None
    yield answers
    key_ledger.delete(body["id"])


@pytest.mark.requirement("AUTH-ANY-METHOD")
@pytest.mark.parametrize("method,documented", list(method_cases()))
def test_no_method_reaches_an_operation_without_authorization(request, method, documented):
    """No method a router may map onto a protected operation serves it without credentials: HEAD, OPTIONS,
    an unknown method, a POST naming the operation's method in an override header or field, a form POST."""
    fixture = "users_list_by_other_methods" if documented == "GET" else "key_deleted_by_other_methods"
    answers = request.getfixturevalue(fixture)  # only here: each operation's requests go from their own worker
    answer = answers[method["id"]]
    if isinstance(answer, str):
        pytest.skip(answer)
    what = f"{method['description']} to the {REACHED[documented].replace('-', ' ')} without Authorization"
    routing.serves_nothing(answer, method, what)


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
