"""The whole documented API: generated inputs, authentication everywhere, JSON content type."""

import pytest
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import response_schema_conformance

from ghippo_conformance.checks import batch, cases, expect, secrets, shapes
from ghippo_conformance.checks.expect import refused
from ghippo_conformance.checks.generated import READ_ONLY_OPERATIONS, bounded, read_only_schema, send
from ghippo_conformance.checks.pages import first_page

any_input = read_only_schema(GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
valid_input = read_only_schema(GenerationMode.POSITIVE)


@pytest.mark.requirement("API-NO-SERVER-ERROR")
@any_input.parametrize()
@bounded
def test_generated_request_gets_no_server_error(case, api, bearer):
    """No generated request, valid or not, gets a 5xx."""
    exchange = send(api, case, bearer)
    expect.that(exchange.status < 500, f"a generated request got {exchange.status}", exchange)


@pytest.mark.requirement("API-NO-SERVER-ERROR")
@pytest.mark.parametrize("case", cases.params("hostile-search"))
def test_hostile_search_gets_no_server_error(api, profile, bearer, case):
    """A search term with quotes, wildcards or escapes gets an answer, never a 5xx."""
    exchange = api.get(profile.paths.users, params={**first_page(profile), "search": case["term"]}, bearer=bearer)
    expect.that(exchange.status < 500, f"search for {case['description']} got {exchange.status}", exchange)


@pytest.mark.requirement("API-RESPONSE-SCHEMA")
@valid_input.parametrize()
@bounded
def test_generated_success_matches_schema(case, api, bearer):
    """Every 2xx answer to a generated request conforms to the documented schema."""
    exchange = send(api, case, bearer)
    if 200 <= exchange.status < 300:
        case.validate_response(exchange.response, checks=[response_schema_conformance])


@pytest.mark.requirement("API-RESPONSE-SCHEMA")
@pytest.mark.parametrize("operation_id", READ_ONLY_OPERATIONS)
def test_plain_request_gets_documented_success(api, profile, bearer, operation_id):
    """A plain valid request gets a 2xx matching its schema, so generated runs never judge only errors."""
    query = first_page(profile) if operation_id == "Users_ListUsers" else None
    case = valid_input.find_operation_by_id(operation_id).Case(query=query)
    exchange = send(api, case, bearer)
    expect.status(exchange, 200, f"a plain {case.method} {case.formatted_path}")
    case.validate_response(exchange.response, checks=[response_schema_conformance])


# What API-AUTH-ENFORCED presents: nothing, or a bearer that is no token of the deployment's.
PRESENTED = {"no-credentials": None, "invalid-token": "not-a-valid-token"}
NO_SUCH_KEY = "conformance-no-such-key"  # the {id} of the operations on one key: a delete changes nothing
# Under xdist the reads and deletes are sent once, on the one worker that runs the tests reading them.
reads_the_anonymous_requests = pytest.mark.xdist_group("anonymous-requests")


def protected_cases():
    """(METHOD, path template, shape, presented, test id) for every protected operation of the document,
    with no credentials and with an invalid token as documented, and with the invalid token in every
    other shape of request-shapes.toml: a shape that skips authentication skips it whether a header
    came or not, and AUTH-MISSING sends the read operations in every shape without one."""
    for method, path, operation_id in shapes.protected_operations():
        for shape in shapes.rows():
            documented = shape["id"] == "as-documented"
            if not shapes.applies(shape, method, path):
                continue
            for presented in PRESENTED if documented else ["invalid-token"]:
                case_id = f"{presented}-{operation_id}" + ("" if documented else f"-{shape['id']}")
                yield method, path, shape, presented, case_id


def protected_requests():
    for method, path, shape, presented, case_id in protected_cases():
        # A create that a broken deployment accepts takes one of the user's key slots: creates go one
        # at a time in their test; the reads and deletes of a missing key are sent side by side.
        marks = [pytest.mark.key_slots] if method == "POST" else [reads_the_anonymous_requests]
        yield pytest.param(method, path, shape, presented, id=case_id, marks=marks)


@pytest.fixture(scope="module")
def anonymous_answers(api) -> dict:
    """The answers to every protected read and delete of `protected_cases`, sent once, side by side."""
    return batch.answers(
        api,
        [
            shapes.batched(
                (method, path, shape["id"], presented),
                shape,
                method,
                path.replace("{id}", NO_SUCH_KEY),
                bearer=PRESENTED[presented],
            )
            for method, path, shape, presented, _ in protected_cases()
            if method != "POST"
        ],
    )


def created_anonymously(api, key_ledger, request: shapes.Request, presented: str):
    """A create of a key, sent on its own: one that a broken deployment accepts is adopted and deleted
    at once, which frees its slot for the key checks."""
    body = {"name": f"{key_ledger.prefix}anonymous", "expiredAt": ""}
    exchange = api.send("POST", request.path, params=request.params, json_body=body, bearer=PRESENTED[presented])
    key_ledger.undo_if_created(exchange, body["name"])
    return exchange


@pytest.mark.requirement("API-AUTH-ENFORCED")
@pytest.mark.parametrize("method,path,shape,presented", list(protected_requests()))
def test_protected_operation_refuses_anonymous(request, api, profile, method, path, shape, presented):
    """Every protected operation refuses requests without credentials or with invalid ones, in every shape."""
    shaped = shapes.shaped(shape, method, path.replace("{id}", NO_SUCH_KEY))
    presenting = "no credentials" if presented == "no-credentials" else "an invalid token"
    what = f"{method} {path} with {presenting}, {shape['description']}"
    if method == "POST":
        exchange = created_anonymously(api, request.getfixturevalue("key_ledger"), shaped, presented)
    else:
        answers = request.getfixturevalue("anonymous_answers")  # only here: the creates' worker sends no batch
        exchange = answers[(method, path, shape["id"], presented)].answered(what)
    expect.status(exchange, shaped.refusals(profile), what)


# Under xdist the near misses are sent once, on the one worker that runs the test reading them.
reads_the_near_misses = pytest.mark.xdist_group("near-misses-of-the-bearer")


@pytest.fixture(scope="module")
def near_miss_answers(api, profile, bearer) -> dict:
    """The answers to every near miss of the session's bearer, by the near miss, sent side by side."""
    misses = secrets.near_misses(bearer).values()
    return batch.answers(api, [batch.Request(almost, profile.paths.users, {"bearer": almost}) for almost in misses])


@pytest.mark.requirement("API-AUTH-ENFORCED")
@reads_the_near_misses
@pytest.mark.parametrize("kind", secrets.NEAR_MISS_KINDS)
def test_near_miss_of_the_bearer_is_refused(near_miss_answers, profile, bearer, kind):
    """The session's bearer (the access key, or the issued token) almost right is refused."""
    what = f"the bearer, {secrets.NEAR_MISS_KINDS[kind]}"
    refused(near_miss_answers[secrets.near_miss(bearer, kind, "the bearer")].answered(what), profile, what)


@pytest.mark.requirement("API-CONTENT-TYPE")
@pytest.mark.parametrize(
    "path_name,authenticated",
    [
        ("users", True),
        ("current_user", True),
        ("list_keys", True),
        ("certs", False),
        ("users", False),
    ],
    ids=["users", "current-user", "keys", "certs", "refusal"],
)
def test_json_comes_as_application_json(api, profile, bearer, path_name, authenticated):
    """JSON bodies come with Content-Type: application/json."""
    if not profile.has(f"paths.{path_name}"):
        pytest.skip(f"the profile names no paths.{path_name}")
    exchange = api.get(getattr(profile.paths, path_name), bearer=bearer if authenticated else None)
    content_type = exchange.headers.get("content-type", "")
    expect.that(
        content_type.split(";")[0].strip().lower() == "application/json",
        f"expected Content-Type application/json, got {content_type or 'none'}",
        exchange,
    )
