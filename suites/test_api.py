"""The whole documented API: generated inputs, authentication everywhere, JSON content type."""

import json

import pytest
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import response_schema_conformance

from ghippo_conformance.checks import cases, expect, schemas
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


def protected_operations():
    document = json.loads(schemas.OPENAPI.read_text())
    default_security = document.get("security", [])
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            if operation.get("security", default_security):
                # A create that a broken deployment accepts takes one of the user's key slots.
                marks = [pytest.mark.key_slots] if method == "post" else []
                yield pytest.param(method.upper(), path, id=operation["operationId"], marks=marks)


@pytest.mark.requirement("API-AUTH-ENFORCED")
@pytest.mark.parametrize("method,path", list(protected_operations()))
@pytest.mark.parametrize("presented", [None, "not-a-valid-token"], ids=["no-credentials", "invalid-token"])
def test_protected_operation_refuses_anonymous(api, profile, key_ledger, method, path, presented):
    """Every protected operation refuses requests without credentials or with invalid ones."""
    concrete = path.replace("{id}", "conformance-no-such-key")
    body = {"name": f"{key_ledger.prefix}anonymous", "expiredAt": ""} if method == "POST" else None
    exchange = api.send(method, concrete, json_body=body, bearer=presented)
    if body:
        key_ledger.adopt(exchange, body["name"])
    refused(exchange, profile, f"{method} {path} with {'no credentials' if presented is None else 'an invalid token'}")


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
