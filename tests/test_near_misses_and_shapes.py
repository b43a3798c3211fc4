"""Near misses of a secret and the shapes of a request: the helpers, their data, and the reference's
lenient knobs they are meant to catch (the kill matrix runs the whole suite against those)."""

import base64
import binascii
import json
import uuid

import pytest
from fault_proxy import FaultProxy, Reset, Scope

from ghippo_conformance import json_schemas
from ghippo_conformance.checks import cases, secrets, shapes
from ghippo_conformance.deployment.http import Api
from ghippo_conformance.deployment.redact import Redactor
from ghippo_reference import leniency
from ghippo_reference.behaviour import Behaviour
from ghippo_reference.server import start
from selftest.suite_process import run_suite

DOCUMENTED_SK = "1718672b-9c40-4538-a129-d9316a36ddff"  # the request example of the DCE 5.0 AK/SK page
SAMPLE_TOKEN = (
    "eyJhbGciOiJSUzI1NiIsImtpZCI6IkRKVjlBTHRBLXZ4MmtQUC1TQnVGS0dCSWc1cnBfdkxiQVVqM2U3RVByWnMiLCJ0eXAiOiJKV1QifQ"
    ".eyJleHAiOjE2NjE0MTU5NjksImlhdCI6MTY2MDgxMTE2OSwiaXNzIjoiZ2hpcHBvLmlvIn0"
    ".RsUcrAYkQQ7C6BxMOrdD3qbBRUt0VVxynIGeq4wyIgye6R8Ma4cjxG5CbU1WyiHKpvIKJDJbeFQHro2euQyVde3ygA672ozkwLTnx3Tu-_mB1Bub"
)
SECRETS = [
    pytest.param(DOCUMENTED_SK, id="uuid"),
    pytest.param(DOCUMENTED_SK.upper(), id="uppercase-uuid"),
    pytest.param(SAMPLE_TOKEN, id="jwt"),
    pytest.param("JBSWY3DPEHPK3PXP", id="base32"),
    pytest.param("c2VjcmV0IGtleQ==", id="padded-base64"),
    pytest.param("Tr0ub4dor&3!", id="own-characters"),
    pytest.param("7", id="one-digit"),
]

# --- near misses --------------------------------------------------------------------------------


@pytest.mark.parametrize("secret", SECRETS)
def test_near_misses_differ_from_the_secret_in_its_own_alphabet(secret):
    alphabet = secrets.alphabet_of(secret)
    misses = secrets.near_misses(secret)
    assert set(misses) <= set(secrets.NEAR_MISS_KINDS)
    for kind, miss in misses.items():
        assert miss != secret, kind
        assert alphabet.holds(miss), f"{kind}: {miss!r} leaves the {alphabet.name} alphabet"
        assert [c for c in miss if c in alphabet.separators] == [c for c in secret if c in alphabet.separators]
    assert len(misses["one-short"]) == len(secret) - 1
    assert len(misses["one-longer"]) == len(secret) + 1
    for kind in ("first-changed", "middle-changed", "last-changed", "case-swapped"):
        if kind in misses:
            assert sum(a != b for a, b in zip(misses[kind], secret, strict=True)) == 1, kind


def test_changes_fall_at_the_start_middle_and_end_and_skip_separators():
    misses = secrets.near_misses(DOCUMENTED_SK)
    assert misses["first-changed"][0] != DOCUMENTED_SK[0]
    assert misses["last-changed"][-1] != DOCUMENTED_SK[-1]
    changed = next(i for i, (a, b) in enumerate(zip(misses["middle-changed"], DOCUMENTED_SK, strict=True)) if a != b)
    assert 12 < changed < 24 and DOCUMENTED_SK[changed] != "-"


def test_a_secret_in_one_case_gets_no_case_swap_and_one_in_both_cases_does():
    """A UUID's hex digits may be read in either case (RFC 9562 section 4): swapping one proves nothing."""
    assert "case-swapped" not in secrets.near_misses(DOCUMENTED_SK)
    assert "case-swapped" not in secrets.near_misses("JBSWY3DPEHPK3PXP")
    swapped = secrets.near_misses(SAMPLE_TOKEN)["case-swapped"]
    assert swapped.lower() == SAMPLE_TOKEN.lower() and swapped != SAMPLE_TOKEN


def _decoded(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def test_base64url_changes_alter_the_decoded_bytes_even_in_the_padding_bits():
    """A lenient decoder ignores the low bits of the last character: the change must reach the data."""
    signature = SAMPLE_TOKEN.rsplit(".", 1)[1]
    for kind in ("last-changed", "one-short", "one-longer"):
        changed = secrets.near_misses(SAMPLE_TOKEN)[kind].rsplit(".", 1)[1]
        try:
            assert _decoded(changed) != _decoded(signature), kind
        except binascii.Error:
            pass  # not decodable at all is as different as it gets


def test_alphabets_are_recognised_smallest_first():
    assert secrets.alphabet_of("0123").name == "decimal"
    assert secrets.alphabet_of(str(uuid.uuid4())).name == "lower-hex"
    assert secrets.alphabet_of(SAMPLE_TOKEN).name == "base64url"
    assert secrets.alphabet_of("Tr0ub4dor&3!").name == "own-characters"


def test_bad_credentials_table_names_every_near_miss_for_the_ak_and_the_sk():
    schema = json_schemas.validator("case-bad-credentials").schema
    assert set(secrets.NEAR_MISS_KINDS) <= set(schema["$defs"]["credential"]["enum"])
    rows = cases.load("bad-credentials")
    for name in ("ak", "sk"):
        assert {row[name] for row in rows} >= set(secrets.NEAR_MISS_KINDS), name


# --- shapes -------------------------------------------------------------------------------------

USERS = "/apis/ghippo.io/v1alpha1/users"
CURRENT_USER = "/apis/ghippo.io/v1alpha1/current-user"


def test_declared_query_comes_from_the_openapi_document():
    document = json.loads(json_schemas.OPENAPI.read_text())
    declared = {p["name"] for p in document["paths"][USERS]["get"]["parameters"] if p["in"] == "query"}
    assert set(shapes.declared_query("GET", USERS)) == declared == {"page", "pageSize", "search"}
    assert shapes.declared_query("GET", CURRENT_USER) == {}
    assert shapes.declared_query("DELETE", "/apis/ghippo.io/v1alpha1/current-user/accesstokens/some-id") == {}
    assert shapes.declared_query("GET", "/not/documented") == {}


@pytest.mark.parametrize(
    "spelling,expected",
    [
        ("as-documented", USERS),
        ("trailing-slash", USERS + "/"),
        ("doubled-slash", "/" + USERS),
        ("percent-encoded-letter", "/%61pis/ghippo.io/v1alpha1/users"),
    ],
)
def test_spellings_leave_the_client_as_written(spelling, expected):
    """httpx resolves dot segments but keeps a doubled slash and a percent-encoded letter."""
    assert shapes.spelt(USERS, spelling) == expected
    api = Api("http://127.0.0.1:9", Redactor())
    try:
        sent = api._client.build_request("GET", api.base_url + expected)
    finally:
        api.close()
    assert sent.url.raw_path.decode() == expected


def test_every_row_of_the_table_has_a_spelling_and_applies_where_it_adds_something():
    by_id = {row["id"]: row for row in shapes.rows()}
    for row in by_id.values():
        shapes.spelt(USERS, row["spelling"])
        assert not set(row["other_refusals"]) & {200, 201, 204}
    assert shapes.applies(by_id["declared-parameters"], "GET", USERS)
    assert not shapes.applies(by_id["declared-parameters"], "GET", CURRENT_USER)
    assert shapes.shaped(by_id["undeclared-parameter"], "GET", USERS).params == {"conformance-undeclared": "1"}


def test_protected_operations_are_those_the_document_secures():
    document = json.loads(json_schemas.OPENAPI.read_text())
    secured = {
        (method.upper(), path, operation["operationId"])
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
        if operation.get("security", document.get("security", []))
    }
    listed = list(shapes.protected_operations())
    assert len(listed) == len(secured) and set(listed) == secured
    assert {method for method, _, _ in secured} == {"GET", "POST", "DELETE"}


def test_a_batched_shape_keeps_its_method_spelling_and_parameters():
    by_id = {row["id"]: row for row in shapes.rows()}
    key_path = "/apis/ghippo.io/v1alpha1/current-user/accesstokens/conformance-no-such-key"
    deleted = shapes.batched("k", by_id["percent-encoded-letter"], "DELETE", key_path, bearer="not-a-valid-token")
    assert (deleted.key, deleted.method, deleted.path) == ("k", "DELETE", "/%61pis" + key_path.removeprefix("/apis"))
    assert deleted.arguments == {"params": None, "bearer": "not-a-valid-token"}
    listed = shapes.batched("k", by_id["declared-parameters"], "GET", USERS)
    assert listed.arguments == {"params": shapes.declared_query("GET", USERS)}


# The shape tests, and the spelling a fault answers with a reset instead of passing it on.
SHAPE_TESTS = "test_request_without_authorization_is_refused or test_protected_operation_refuses_anonymous"
UNANSWERED = "percent-encoded-letter"


@pytest.mark.suite_run
def test_a_shape_that_gets_no_answer_fails_its_own_test_with_the_error():
    """Sent side by side, a shape whose connection is reset fails that shape's test, with the request
    and the error as evidence; the other shapes' answers are judged as ever."""
    reset = Reset(scope=Scope(path=shapes.spelt("/apis", UNANSWERED)))
    with start() as reference, FaultProxy(reference.base_url, reset) as proxy:
        run = run_suite(proxy.base_url, "dce5-aksk", reference.credentials, "-k", SHAPE_TESTS)
    assert run.report is not None, run.output_tail
    tests = {test["nodeid"]: test for row in run.report["requirements"] for test in row["tests"]}
    failed = {nodeid for nodeid, test in tests.items() if test["outcome"] == "failed"}
    assert failed == {nodeid for nodeid in tests if nodeid.endswith(f"-{UNANSWERED}]")}, run.output_tail
    assert len(failed) == 2 + len(list(shapes.protected_operations())), failed  # both paths, every operation
    for nodeid in failed:
        told = tests[nodeid]["reason"] + tests[nodeid]["evidence"]
        assert "the connection failed" in told and "/%61pis/" in told, (nodeid, tests[nodeid])
    assert {test["outcome"] for nodeid, test in tests.items() if nodeid not in failed} <= {
        "passed",
        "skipped",
        "not-applicable",
    }


# --- the reference's lenient knobs --------------------------------------------------------------

STORED = DOCUMENTED_SK


@pytest.mark.parametrize(
    "comparison,accepted",
    [
        ("exact", {STORED}),
        ("first-8-chars", {STORED, STORED[:8] + "-0000", STORED[:-1] + "0", STORED[:-1], STORED + "0"}),
        ("all-but-last-char", {STORED, STORED[:-1] + "0"}),
        ("shorter-length", {STORED, STORED[:-1], STORED + "0"}),
        ("case-insensitive", {STORED, STORED.upper()}),
    ],
)
def test_reference_comparisons_accept_what_they_name_and_no_more(comparison, accepted):
    near = {STORED[:8] + "-0000", STORED[:-1] + "0", STORED[:-1], STORED + "0", STORED.upper(), "x" + STORED}
    candidates = {STORED, *near}
    assert {c for c in candidates if leniency.matches(c, STORED, comparison)} == accepted


@pytest.mark.parametrize(
    "behaviour,path,status",
    [
        pytest.param(Behaviour(), "/%61pis/ghippo.io/v1alpha1/users", 401, id="percent-encoded-routed-and-refused"),
        pytest.param(Behaviour(), "//apis/ghippo.io/v1alpha1/users", 404, id="doubled-slash-not-routed"),
        pytest.param(Behaviour(path_routing="raw"), "/%61pis/ghippo.io/v1alpha1/users", 404, id="raw-routing"),
        pytest.param(Behaviour(path_routing="normalised"), "//apis/ghippo.io/v1alpha1/users/", 401, id="normalised"),
        pytest.param(
            Behaviour(auth_skipped_for="percent-encoded-path"),
            "/%61pis/ghippo.io/v1alpha1/users",
            200,
            id="percent-encoded-skips-auth",
        ),
        pytest.param(
            Behaviour(path_routing="normalised", auth_skipped_for="doubled-slash"),
            "//apis/ghippo.io/v1alpha1/users",
            200,
            id="doubled-slash-skips-auth",
        ),
    ],
)
def test_reference_sees_the_spelling_the_suite_sent(behaviour, path, status):
    """The bypass variants only let in a spelling that reached the server as written: a 200 here
    proves the doubled slash and the percent-encoded letter left the suite's HTTP helper intact."""
    with start(behaviour) as reference:
        api = Api(reference.base_url, Redactor())
        try:
            assert api.get(path).status == status
        finally:
            api.close()
