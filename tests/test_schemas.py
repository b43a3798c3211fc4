"""Self-tests of the JSON Schemas, the OpenAPI document and the schema fixtures."""

import copy
import json
import re
from datetime import timedelta
from urllib.parse import urljoin

import httpx
import pytest
import schemathesis
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from ghippo_conformance.checks import cases
from ghippo_conformance.json_schemas import BASE_URI, OPENAPI, errors, schema_files, validator
from ghippo_conformance.paths import DOCUMENTATION, SCHEMAS

NEGATIVES = cases.load("schema-negatives")  # checked against schemas/case-table.json on loading
NEGATIVE_PARAMS = cases.params("schema-negatives")
EXAMPLE_SCHEMAS = {"user-list-response": "user-list", "token-response": "token-response"}
PREFIX = "/apis/ghippo.io/v1alpha1"
USERS = f"{PREFIX}/users"
# (method, path) -> (operationId, whether it takes a bearer token)
DOCUMENTED_OPERATIONS = {
    ("GET", f"{PREFIX}/token"): ("Token_Issue", False),
    ("GET", USERS): ("Users_ListUsers", True),
    ("GET", f"{PREFIX}/current-user"): ("Account_GetUser", True),
    ("POST", f"{PREFIX}/current-user/accesstoken"): ("Account_CreateAccessToken", True),
    ("GET", f"{PREFIX}/current-user/accesstokens"): ("Account_ListAccessTokens", True),
    ("DELETE", f"{PREFIX}/current-user/accesstokens/{{id}}"): ("Account_DeleteAccessToken", True),
    ("GET", f"{PREFIX}/certs"): ("Openapi_Certs", False),
}
# The users operation's 200 response and its `default` (error) response, as schemathesis sees them.
STATUS_FOR_USERS_RESPONSE = {"user-list": 200, "error": 401}


def documentation_example(name: str):
    return json.loads((DOCUMENTATION / f"{name}.json").read_text())


def base_of(case: dict):
    """The valid document a negative case starts from: a documentation example or a literal."""
    return documentation_example(case["base"]) if isinstance(case["base"], str) else case["base"]


def apply(patch: dict, document):
    """A copy of `document` with `patch` applied: `set` {pointer: value}, then `remove` [pointer]."""
    patched = copy.deepcopy(document)
    for pointer, value in patch.get("set", {}).items():
        parent, key = _parent_and_key(patched, pointer)
        parent[key] = value
    for pointer in patch.get("remove", []):
        parent, key = _parent_and_key(patched, pointer)
        del parent[key]
    return patched


def _parent_and_key(document, pointer: str):
    *parents, last = [token.replace("~1", "/").replace("~0", "~") for token in pointer.split("/")[1:]]
    for token in parents:
        document = document[int(token) if isinstance(document, list) else token]
    return document, int(last) if isinstance(document, list) else last


def references(path) -> list[str]:
    return re.findall(r'"\$ref": "([^"]+)"', path.read_text())


def is_valid_users_response(openapi, status: int, body) -> bool:
    request = httpx.Request("GET", f"https://ghippo.invalid{USERS}")
    response = httpx.Response(status, json=body, request=request)
    response.elapsed = timedelta(0)  # a client sets it once the body is read; schemathesis reads it
    return openapi[USERS]["GET"].is_valid_response(response)


@pytest.fixture(scope="module")
def openapi():
    return schemathesis.openapi.from_path(OPENAPI)


@pytest.mark.parametrize("path", schema_files(), ids=lambda path: path.stem)
def test_schema_file_is_a_2020_12_schema_whose_references_resolve_locally(path):
    schema = json.loads(path.read_text())
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == f"{BASE_URI}{path.name}"
    Draft202012Validator.check_schema(schema)
    for ref in references(path):
        validator({"$ref": urljoin(schema["$id"], ref)}).is_valid({})  # raises if unresolvable


@pytest.mark.parametrize(("example", "schema"), EXAMPLE_SCHEMAS.items())
def test_documentation_example_is_valid(example, schema):
    assert errors(documentation_example(example), schema) == []


def test_sample_token_is_the_documented_token_alone_on_its_line():
    token = documentation_example("token-response")["token"]
    assert (DOCUMENTATION / "sample-token.jwt").read_text() == token


def test_errors_name_the_json_path_of_the_offending_value():
    users = documentation_example("user-list-response")
    bad = apply({"set": {"/items/0/createdAt": 1660632794800}}, users)
    assert errors(bad, "user-list")[0] == "$.items[0].createdAt: 1660632794800 is not of type 'string'"


def test_format_checking_is_live():
    assert errors("not-a-date", {"format": "date-time"}) == ["$: 'not-a-date' is not a 'date-time'"]
    assert errors("2022-08-16T06:53:14Z", {"format": "date-time"}) == []


@pytest.mark.parametrize("case", NEGATIVE_PARAMS)
def test_negative_case_is_rejected(case):
    base, schema = base_of(case), case["schema"]
    assert errors(base, schema) == [], "the base must be valid, so that only the patch breaks it"
    assert errors(apply(case["patch"], base), schema), f"{case['description']}, yet it validates"


@pytest.mark.parametrize("case", NEGATIVE_PARAMS)
def test_negative_case_row_is_well_formed(case):
    assert set(case) == {"id", "description", "schema", "base", "patch"}
    assert not re.search(r"\bshould\b|\btest that\b", case["description"], re.IGNORECASE)
    assert (SCHEMAS / f"{case['schema']}.json") in schema_files()
    assert isinstance(case["base"], dict) or case["base"] in EXAMPLE_SCHEMAS
    assert case["patch"] and set(case["patch"]) <= {"set", "remove"}


@pytest.mark.parametrize("field", ["id", "description"])
def test_negative_case_field_is_unique(field):
    values = [case[field] for case in NEGATIVES]
    assert sorted({value for value in values if values.count(value) > 1}) == []


def test_openapi_declares_exactly_the_documented_operations_by_file_reference(openapi):
    document = json.loads(OPENAPI.read_text())
    assert document["openapi"].startswith("3.1.")
    assert document["components"]["securitySchemes"]["bearer"] == {"type": "http", "scheme": "bearer"}
    assert '"properties"' not in OPENAPI.read_text(), "shapes live in the schema files, referred to by name"
    file_refs = {ref for ref in references(OPENAPI) if not ref.startswith("#")}
    assert file_refs <= {path.name for path in schema_files()}
    declared = {
        (operation.method.upper(), operation.path): (
            operation.definition.raw["operationId"],
            operation.definition.raw.get("security", document["security"]) == [{"bearer": []}],
        )
        for operation in (result.ok() for result in openapi.get_all_operations())
    }
    assert declared == DOCUMENTED_OPERATIONS


@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_schemathesis_generates_users_requests(openapi, data):
    case = data.draw(openapi[USERS]["GET"].as_strategy())
    assert case.path == USERS
    assert set(case.query or {}) <= {"page", "pageSize", "search"}


@pytest.mark.parametrize(
    "case", [param for param in NEGATIVE_PARAMS if param.values[0]["schema"] in STATUS_FOR_USERS_RESPONSE]
)
def test_schemathesis_checks_users_responses_through_file_refs(openapi, case):
    status = STATUS_FOR_USERS_RESPONSE[case["schema"]]
    assert is_valid_users_response(openapi, status, base_of(case))
    assert not is_valid_users_response(openapi, status, apply(case["patch"], base_of(case)))
